package flexmatch_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/musterhq/muster/flexmatch"
)

func priorityRuleSet(priority string) string {
	return `{"ruleLanguageVersion":"1.0",
	 "algorithm":{"backfillPriority":"` + priority + `"},
	 "teams":[{"name":"all","minPlayers":2,"maxPlayers":3}]}`
}

func TestRegisteredBackfill(t *testing.T) {
	request := flexmatch.Ticket{ID: "auto-backfill-1", StartTime: at(0), Players: []flexmatch.Player{{ID: "A", Team: "all"}}}
	tests := []struct {
		name     string
		priority string
		want     []string // match descriptions, backfill first
	}{
		{"high priority fills the running match before new matches", "high", []string{"auto-backfill-1:C,D"}},
		{"low priority lets new tickets form their own match first", "low", []string{":C,D"}},
		{"normal priority goes by age and the older backfill request wins", "normal", []string{"auto-backfill-1:C,D"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := flexmatch.NewEngine(mustParse(t, priorityRuleSet(tc.priority)), flexmatch.Options{ExactSearchTickets: -1})
			if err := e.AddBackfill(request); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"C", "D"} {
				if err := e.Add(solo(id, 1, 0, nil)); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for _, m := range e.Cycle(at(2)) {
				got = append(got, m.BackfillID+":"+strings.Join(m.TicketIDs, ","))
				if m.BackfillID != "" && m.PlayerCount() != 3 {
					t.Fatalf("backfill roster %v, want A, C and D", m.Teams)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("matches %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("a filled request is unregistered and Remove cancels a waiting one", func(t *testing.T) {
		e := flexmatch.NewEngine(mustParse(t, priorityRuleSet("high")), flexmatch.Options{})
		if err := e.AddBackfill(request); err != nil {
			t.Fatal(err)
		}
		if err := e.Remove(request.ID); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		if err := e.Add(solo("C", 1, 0, nil)); err != nil {
			t.Fatal(err)
		}
		if ms := e.Cycle(at(2)); len(ms) != 0 {
			t.Fatalf("cancelled backfill still matched: %v", ms)
		}
	})
	t.Run("a request naming an unknown team is refused", func(t *testing.T) {
		e := flexmatch.NewEngine(mustParse(t, priorityRuleSet("high")), flexmatch.Options{})
		bad := request
		bad.Players = []flexmatch.Player{{ID: "A", Team: "al"}}
		var te *flexmatch.TicketError
		if err := e.AddBackfill(bad); !errors.As(err, &te) || !strings.Contains(te.Reason, `did you mean "all"?`) {
			t.Fatalf("err = %v", err)
		}
	})
}
