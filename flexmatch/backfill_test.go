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

type priorityCase struct {
	name     string
	priority string
	want     []string // match descriptions, backfill first
}

// run registers request, adds two new tickets that fit it and checks what
// one cycle makes of them.
func (tc priorityCase) run(t *testing.T, opt flexmatch.Options, request flexmatch.Ticket) {
	e := flexmatch.NewEngine(mustParse(t, priorityRuleSet(tc.priority)), opt)
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
}

func TestRegisteredBackfill(t *testing.T) {
	request := flexmatch.Ticket{ID: "auto-backfill-1", StartTime: at(0), Players: []flexmatch.Player{{ID: "A", Team: "all"}}}
	tests := []priorityCase{
		{"high priority fills the running match before new matches", "high", []string{"auto-backfill-1:C,D"}},
		{"low priority lets new tickets form their own match first", "low", []string{":C,D"}},
		{"normal priority goes by age and the older backfill request wins", "normal", []string{"auto-backfill-1:C,D"}},
	}
	for _, tc := range tests {
		for _, search := range []struct {
			name  string
			exact int
		}{{"greedy", -1}, {"exact", 0}} {
			t.Run(tc.name+" ("+search.name+" search)", func(t *testing.T) {
				tc.run(t, flexmatch.Options{ExactSearchTickets: search.exact}, request)
			})
		}
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

// A registered request that cannot be filled costs nothing while the pool
// and its own expansion step stay as they were, and is tried again as soon
// as either changes.
func TestRegisteredBackfillIsRetriedOnlyWhenSomethingChanged(t *testing.T) {
	body := `{"ruleLanguageVersion":"1.0",
	 "playerAttributes":[{"name":"skill","type":"number","default":10}],
	 "teams":[{"name":"all","minPlayers":2,"maxPlayers":3}],
	 "rules":[{"name":"Close","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
	           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","maxDistance":5}],
	 "expansions":[{"target":"rules[Close].maxDistance","steps":[{"waitTimeSeconds":30,"value":50}]}]}`
	e := flexmatch.NewEngine(mustParse(t, body), flexmatch.Options{})
	request := flexmatch.Ticket{ID: "auto-backfill-1", StartTime: at(0), Players: []flexmatch.Player{
		{ID: "A", Team: "all", Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(10)}}}}
	if err := e.AddBackfill(request); err != nil {
		t.Fatal(err)
	}
	if err := e.Add(solo("far", 0, 40, nil)); err != nil {
		t.Fatal(err)
	}
	attempts := func() int { return e.Stats().BackfillAttempts }
	cycle := func(s float64) []flexmatch.Match { t.Helper(); return e.Cycle(at(s)) }
	if ms := cycle(1); len(ms) != 0 || attempts() != 1 {
		t.Fatalf("first cycle: matches %v, %d attempts; want none and 1", ms, attempts())
	}
	for _, s := range []float64{2, 3, 10, 29} {
		if ms := cycle(s); len(ms) != 0 {
			t.Fatalf("at %vs: matched %v", s, ms)
		}
	}
	if attempts() != 1 {
		t.Fatalf("%d attempts while nothing changed, want 1", attempts())
	}
	if err := e.Add(solo("still-far", 0, 100, nil)); err != nil {
		t.Fatal(err)
	}
	if cycle(29.5); attempts() != 2 {
		t.Fatalf("%d attempts after a ticket arrived, want 2", attempts())
	}
	// At 30 s the request's own step loosens Close to 50: "far" now fits.
	ms := cycle(30)
	if attempts() != 3 || len(ms) != 1 || ms[0].BackfillID != request.ID || strings.Join(ms[0].TicketIDs, ",") != "far" {
		t.Fatalf("after the request's step changed: %d attempts, matches %v; want 3 and the request filled with far", attempts(), ms)
	}
}
