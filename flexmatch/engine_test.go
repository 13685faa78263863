package flexmatch_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/musterhq/muster/flexmatch"
)

func mustParse(t testing.TB, body string) *flexmatch.RuleSet {
	t.Helper()
	rs, err := flexmatch.Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rs
}

// closePairs is a rule set of one team of two whose skills are at most
// maxDistance apart, widened to wideDistance once a ticket has waited
// waitSeconds.
func closePairs(t testing.TB, maxDistance, waitSeconds, wideDistance int) *flexmatch.RuleSet {
	t.Helper()
	return mustParse(t, fmt.Sprintf(`{"ruleLanguageVersion":"1.0",
	 "playerAttributes":[{"name":"skill","type":"number"}],
	 "teams":[{"name":"a","minPlayers":2,"maxPlayers":2}],
	 "rules":[{"name":"Close","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
	           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","maxDistance":%d}],
	 "expansions":[{"target":"rules[Close].maxDistance","steps":[{"waitTimeSeconds":%d,"value":%d}]}]}`,
		maxDistance, waitSeconds, wideDistance))
}

func solo(id string, start float64, skill float64, lat map[string]int) flexmatch.Ticket {
	return flexmatch.Ticket{ID: id, StartTime: at(start), Players: []flexmatch.Player{{
		ID: id, Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(skill)}, LatencyMs: lat}}}
}

const backfillRuleSet = `{"ruleLanguageVersion":"1.0",
 "playerAttributes":[{"name":"skill","type":"number","default":10}],
 "teams":[{"name":"red","minPlayers":2,"maxPlayers":3},{"name":"blue","minPlayers":2,"maxPlayers":3}],
 "rules":[{"name":"Close","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","maxDistance":10}]}`

func TestBackfill(t *testing.T) {
	current := flexmatch.Ticket{ID: "bf-1", StartTime: at(0), Players: []flexmatch.Player{
		{ID: "A", Team: "red", Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(10)}},
		{ID: "B", Team: "blue", Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(12)}},
	}}
	t.Run("fills open slots with compatible tickets and returns the whole roster", func(t *testing.T) {
		e := flexmatch.NewEngine(mustParse(t, backfillRuleSet), flexmatch.Options{})
		for _, tk := range []flexmatch.Ticket{solo("C", 1, 15, nil), solo("far", 1, 90, nil), solo("D", 2, 11, nil)} {
			if err := e.Add(tk); err != nil {
				t.Fatal(err)
			}
		}
		m, ok, err := e.Backfill(current, at(3))
		if err != nil || !ok {
			t.Fatalf("Backfill = %v, %v", ok, err)
		}
		if got := strings.Join(m.TicketIDs, ","); got != "C,D" {
			t.Fatalf("new tickets %s, want C,D", got)
		}
		if m.PlayerCount() != 4 || len(m.Teams[0].PlayerIDs) != 2 || len(m.Teams[1].PlayerIDs) != 2 {
			t.Fatalf("roster %+v, want 2 and 2", m.Teams)
		}
		if e.Len() != 1 {
			t.Fatalf("pool holds %d tickets, want only far", e.Len())
		}
	})
	t.Run("does nothing when no ticket fits", func(t *testing.T) {
		e := flexmatch.NewEngine(mustParse(t, backfillRuleSet), flexmatch.Options{})
		if err := e.Add(solo("far", 1, 90, nil)); err != nil {
			t.Fatal(err)
		}
		_, ok, err := e.Backfill(current, at(3))
		if err != nil || ok {
			t.Fatalf("Backfill = %v, %v; want no match", ok, err)
		}
		if e.Len() != 1 {
			t.Fatal("the pool changed")
		}
	})
	t.Run("requires a team for every current player", func(t *testing.T) {
		e := flexmatch.NewEngine(mustParse(t, backfillRuleSet), flexmatch.Options{})
		bad := current
		bad.Players = []flexmatch.Player{{ID: "A"}}
		_, _, err := e.Backfill(bad, at(3))
		var te *flexmatch.TicketError
		if !errors.As(err, &te) || te.Path != "players[0].team" {
			t.Fatalf("err = %v, want a TicketError on players[0].team", err)
		}
	})
}

func TestEngineTicketErrors(t *testing.T) {
	rs := mustParse(t, backfillRuleSet)
	e := flexmatch.NewEngine(rs, flexmatch.Options{})
	if err := e.Add(solo("A", 0, 1, nil)); err != nil {
		t.Fatal(err)
	}
	t.Run("a duplicate ticket ID is refused", func(t *testing.T) {
		if err := e.Add(solo("A", 0, 1, nil)); !errors.Is(err, flexmatch.ErrDuplicateTicket) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("removing an unknown ticket fails", func(t *testing.T) {
		if err := e.Remove("nope"); !errors.Is(err, flexmatch.ErrUnknownTicket) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("explaining an unknown ticket fails", func(t *testing.T) {
		if _, err := e.Explain("nope", at(0)); !errors.Is(err, flexmatch.ErrUnknownTicket) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an attribute with the wrong member is refused by path", func(t *testing.T) {
		tk := flexmatch.Ticket{ID: "B", Players: []flexmatch.Player{{ID: "b", Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.String("high")}}}}
		var te *flexmatch.TicketError
		if err := e.Add(tk); !errors.As(err, &te) || te.Path != "players[0].attributes.skill" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a removed ticket is never matched", func(t *testing.T) {
		if err := e.Remove("A"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"C", "D", "E"} {
			if err := e.Add(solo(id, 0, 1, nil)); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range e.Cycle(at(1)) {
			for _, id := range m.TicketIDs {
				if id == "A" {
					t.Fatal("removed ticket A was matched")
				}
			}
		}
	})
}

func TestParseLimits(t *testing.T) {
	t.Run("a body over 65,535 bytes is refused", func(t *testing.T) {
		body := `{"ruleLanguageVersion":"1.0","name":"` + strings.Repeat("x", 70000) + `","teams":[{"name":"a","minPlayers":1,"maxPlayers":1}]}`
		_, err := flexmatch.Parse([]byte(body))
		if err == nil || !strings.Contains(err.Error(), "the limit is 65535") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("the error joins every problem into one message", func(t *testing.T) {
		_, err := flexmatch.Parse([]byte(`{"ruleLanguageVersion":"1.1","teams":[]}`))
		want := `invalid rule set: ruleLanguageVersion: must be "1.0", not "1.1"; teams: must define at least one team`
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v\nwant %s", err, want)
		}
	})
	t.Run("CheckTimeout flags steps after the request timeout", func(t *testing.T) {
		rs := mustParse(t, `{"ruleLanguageVersion":"1.0","teams":[{"name":"a","minPlayers":2,"maxPlayers":2}],
			"expansions":[{"target":"teams[a].minPlayers","steps":[{"waitTimeSeconds":30,"value":1}]}]}`)
		if p := rs.CheckTimeout(60); len(p) != 0 {
			t.Fatalf("60 s: %v", p)
		}
		if p := rs.CheckTimeout(20); len(p) != 1 || p[0].Path != "expansions[0].steps[0].waitTimeSeconds" {
			t.Fatalf("20 s: %v", p)
		}
	})
	t.Run("warnings are kept on an accepted rule set", func(t *testing.T) {
		rs := mustParse(t, `{"ruleLanguageVersion":"1.0","playerAttributes":[{"name":"s","type":"number"}],
			"teams":[{"name":"a","minPlayers":2,"maxPlayers":2}],
			"rules":[{"name":"B","type":"batchDistance","batchAttribute":"s"}]}`)
		if w := rs.Warnings(); len(w) != 1 || w[0].Path != "rules[0].maxDistance" {
			t.Fatalf("warnings %v", w)
		}
	})
}

func TestCycleCostsWhatChanged(t *testing.T) {
	rs := closePairs(t, 1, 10, 5)
	e := flexmatch.NewEngine(rs, flexmatch.Options{ExactSearchTickets: -1})
	for i := range 20 {
		if err := e.Add(solo(string(rune('a'+i)), 0, float64(i*100), nil)); err != nil {
			t.Fatal(err)
		}
	}
	// anchoredBy runs a cycle at s seconds and counts the tickets it anchored.
	anchoredBy := func(s float64) int {
		before := e.Stats().Anchors
		e.Cycle(at(s))
		return e.Stats().Anchors - before
	}
	if got := anchoredBy(0); got != 20 {
		t.Fatalf("first cycle anchored %d tickets, want each new one (20)", got)
	}
	t.Run("a cycle with nothing new anchors nothing", func(t *testing.T) {
		if got := anchoredBy(5); got != 0 {
			t.Fatalf("anchored %d tickets", got)
		}
	})
	t.Run("a new ticket anchors only itself", func(t *testing.T) {
		if err := e.Add(solo("new", 6, 5000, nil)); err != nil {
			t.Fatal(err)
		}
		if got := anchoredBy(6); got != 1 {
			t.Fatalf("anchored %d tickets, want 1", got)
		}
	})
	t.Run("tickets are tried again when their expansion step starts", func(t *testing.T) {
		if got := anchoredBy(10); got != 20 {
			t.Fatalf("anchored %d tickets at their 10 s step, want 20", got)
		}
	})
}

func TestBackfillHonoursLatencyAtTheSessionLocation(t *testing.T) {
	rs := mustParse(t, `{"ruleLanguageVersion":"1.0",
	 "teams":[{"name":"all","minPlayers":2,"maxPlayers":4}],
	 "rules":[{"name":"Ping","type":"latency","maxLatency":100}]}`)
	e := flexmatch.NewEngine(rs, flexmatch.Options{})
	for _, tk := range []flexmatch.Ticket{
		solo("far", 1, 0, map[string]int{"us": 20}),
		solo("slow", 1, 0, map[string]int{"eu": 180}),
		solo("near", 2, 0, map[string]int{"eu": 40, "us": 90}),
	} {
		if err := e.Add(tk); err != nil {
			t.Fatal(err)
		}
	}
	req := flexmatch.Ticket{ID: "bf", StartTime: at(0), Players: []flexmatch.Player{
		{ID: "A", Team: "all", LatencyMs: map[string]int{"eu": 30}},
		{ID: "B", Team: "all", LatencyMs: map[string]int{"eu": 35}},
	}}
	m, ok, err := e.Backfill(req, at(3))
	if err != nil || !ok {
		t.Fatalf("Backfill = %v, %v", ok, err)
	}
	if strings.Join(m.TicketIDs, ",") != "near" || len(m.Locations) != 1 || m.Locations[0].Location != "eu" {
		t.Fatalf("got tickets %v in %v, want near in eu", m.TicketIDs, m.Locations)
	}
}

func TestRequeuedTicketMeetsNewerWaitingTickets(t *testing.T) {
	rs := closePairs(t, 5, 30, 10)
	e := flexmatch.NewEngine(rs, flexmatch.Options{ExactSearchTickets: -1})
	if err := e.Add(solo("newer", 10, 100, nil)); err != nil {
		t.Fatal(err)
	}
	if ms := e.Cycle(at(10)); len(ms) != 0 {
		t.Fatalf("a lone ticket matched: %v", ms)
	}
	// A ticket that returns to the pool (say, after a failed acceptance)
	// keeps its old start time; it must still meet tickets already waiting.
	if err := e.Add(solo("requeued", 0, 102, nil)); err != nil {
		t.Fatal(err)
	}
	ms := e.Cycle(at(12))
	if len(ms) != 1 || strings.Join(ms[0].TicketIDs, ",") != "requeued,newer" {
		t.Fatalf("got %v, want requeued and newer matched", ms)
	}
}

func TestBackfillOnAnEmptyPoolFindsNothing(t *testing.T) {
	rs := mustParse(t, backfillRuleSet)
	for _, name := range []string{"engine never used", "pool emptied by a match"} {
		t.Run(name, func(t *testing.T) {
			e := flexmatch.NewEngine(rs, flexmatch.Options{})
			if name == "pool emptied by a match" {
				for _, id := range []string{"a", "b", "c", "d"} {
					if err := e.Add(solo(id, 0, 10, nil)); err != nil {
						t.Fatal(err)
					}
				}
				if ms := e.Cycle(at(1)); len(ms) != 1 || e.Len() != 0 {
					t.Fatalf("setup: %d matches, %d waiting", len(ms), e.Len())
				}
			}
			req := flexmatch.Ticket{ID: "bf", StartTime: at(0), Players: []flexmatch.Player{{ID: "A", Team: "red"}}}
			_, ok, err := e.Backfill(req, at(2))
			if ok || err != nil {
				t.Fatalf("Backfill = %v, %v; want nothing", ok, err)
			}
		})
	}
}

func TestRevisitRetriesWaitingTickets(t *testing.T) {
	rs := mustParse(t, backfillRuleSet)
	for _, revisit := range []int{0, 3} {
		e := flexmatch.NewEngine(rs, flexmatch.Options{ExactSearchTickets: -1, Revisit: revisit})
		for i := range 3 {
			if err := e.Add(solo(string(rune('a'+i)), 0, 10, nil)); err != nil {
				t.Fatal(err)
			}
		}
		e.Cycle(at(1))
		before := e.Stats().Anchors
		e.Cycle(at(2))
		if got := e.Stats().Anchors - before; got != revisit {
			t.Errorf("with Revisit %d a quiet cycle anchored %d tickets", revisit, got)
		}
	}
}

// More tickets arriving at once than the exact search takes: the greedy pass
// matches the first and leaves a partition small enough for the exact
// search, which must still run on the rest in the same cycle.
func TestAPoolThatShrinksToExactSizeIsStillMatched(t *testing.T) {
	e := flexmatch.NewEngine(mustParse(t, `{"ruleLanguageVersion":"1.0",
	 "teams":[{"name":"duel","minPlayers":2,"maxPlayers":2}]}`), flexmatch.Options{ExactSearchTickets: 12})
	for i := range 14 {
		if err := e.Add(solo(fmt.Sprint("t", i), float64(i)/10, 0, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if ms := e.Cycle(at(2)); len(ms) != 7 || e.Len() != 0 {
		t.Fatalf("%d matches, %d tickets left waiting; want 7 and none", len(ms), e.Len())
	}
}

// A distance rule over the spread of some teams only does not bound the
// spread of the whole match: a ticket far from the anchor may still fill a
// team the rule does not read.
func TestSpreadOverSomeTeamsLeavesOtherTeamsFree(t *testing.T) {
	rs := mustParse(t, `{"ruleLanguageVersion":"1.0",
	 "playerAttributes":[{"name":"skill","type":"number"}],
	 "teams":[{"name":"red","minPlayers":1,"maxPlayers":1},{"name":"blue","minPlayers":1,"maxPlayers":1},
	          {"name":"green","minPlayers":1,"maxPlayers":1}],
	 "rules":[{"name":"Close","type":"distance","measurements":"max(flatten(teams[red,blue].players.attributes[skill]))",
	           "referenceValue":"min(flatten(teams[red,blue].players.attributes[skill]))","maxDistance":10}]}`)
	for _, exact := range []int{0, -1} {
		e := flexmatch.NewEngine(rs, flexmatch.Options{ExactSearchTickets: exact})
		for _, tk := range []flexmatch.Ticket{solo("a", 0, 1500, nil), solo("b", 1, 1505, nil), solo("far", 2, 2000, nil)} {
			if err := e.Add(tk); err != nil {
				t.Fatal(err)
			}
		}
		if ms := e.Cycle(at(3)); len(ms) != 1 || len(ms[0].TicketIDs) != 3 {
			t.Errorf("ExactSearchTickets %d: got %v, want one match of a, b and far", exact, ms)
		}
	}
}

// A distance that equals maxDistance passes, however the rounding of the
// averages falls: here 13 is exactly 1 from the match's average of 12, but
// summed in one team order the average comes out a hair under 12 and in the
// other exactly 12, and the match formed only in the second.
func TestDistanceAtTheBoundPassesInAnyTeamOrder(t *testing.T) {
	for _, teams := range []string{
		`{"name":"solo","minPlayers":0,"maxPlayers":1},{"name":"party","minPlayers":0,"maxPlayers":3}`,
		`{"name":"party","minPlayers":0,"maxPlayers":3},{"name":"solo","minPlayers":0,"maxPlayers":1}`,
	} {
		rs := mustParse(t, `{"ruleLanguageVersion":"1.0","playerAttributes":[{"name":"skill","type":"number"}],
		 "teams":[`+teams+`],
		 "rules":[{"name":"Even","type":"distance","measurements":"avg(teams[*].players.attributes[skill])",
		           "referenceValue":"avg(flatten(teams[*].players.attributes[skill]))","maxDistance":1}]}`)
		e := flexmatch.NewEngine(rs, flexmatch.Options{})
		party := flexmatch.Ticket{ID: "party", StartTime: at(0)}
		for i, skill := range []float64{6, 7, 22} { // an average of 35/3 for each
			party.Players = append(party.Players, flexmatch.Player{ID: fmt.Sprint("p", i),
				Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(skill)}})
		}
		for _, tk := range []flexmatch.Ticket{party, solo("solo", 0, 13, nil)} {
			if err := e.Add(tk); err != nil {
				t.Fatal(err)
			}
		}
		if ms := e.Cycle(at(1)); len(ms) != 1 || len(ms[0].TicketIDs) != 2 {
			t.Errorf("teams %s: got %v, want one match of both tickets", teams, ms)
		}
	}
}

// The spread shortcut keeps the same inclusive bounds: two parties whose
// averages are 49/3 and 34/3 are exactly 5 apart, which the floating-point
// difference puts a hair under 5.
func TestSpreadAtItsBoundsPasses(t *testing.T) {
	rs := mustParse(t, `{"ruleLanguageVersion":"1.0","playerAttributes":[{"name":"skill","type":"number"}],
	 "teams":[{"name":"a","minPlayers":3,"maxPlayers":3},{"name":"b","minPlayers":3,"maxPlayers":3}],
	 "rules":[{"name":"Exactly5","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
	           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","minDistance":5,"maxDistance":5}]}`)
	party := func(id string, skills ...float64) flexmatch.Ticket {
		tk := flexmatch.Ticket{ID: id, StartTime: at(0)}
		for i, s := range skills {
			tk.Players = append(tk.Players, flexmatch.Player{ID: fmt.Sprint(id, i),
				Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(s)}})
		}
		return tk
	}
	for _, exact := range []int{0, -1} {
		e := flexmatch.NewEngine(rs, flexmatch.Options{ExactSearchTickets: exact})
		for _, tk := range []flexmatch.Ticket{party("high", 0, 9, 40), party("low", 1, 2, 31)} {
			if err := e.Add(tk); err != nil {
				t.Fatal(err)
			}
		}
		if ms := e.Cycle(at(1)); len(ms) != 1 {
			t.Errorf("ExactSearchTickets %d: got %v, want the two parties matched", exact, ms)
		}
	}
}

// Lower bounds (minDistance, the minCount of contains) can only be met once
// enough tickets have joined, so the greedy search, which checks each
// partial match as it grows, judges them on complete candidates: before,
// a pool too large for the exact search never matched under them, as every
// anchor alone fell short.
func TestGreedySearchMeetsLowerBounds(t *testing.T) {
	for _, tc := range []struct{ name, teams, rule string }{
		{"minDistance", `{"name":"a","minPlayers":1,"maxPlayers":1},{"name":"b","minPlayers":1,"maxPlayers":1}`,
			`{"name":"Apart","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
			  "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","minDistance":4,"maxDistance":8}`},
		{"minCount", `{"name":"a","minPlayers":2,"maxPlayers":2},{"name":"b","minPlayers":2,"maxPlayers":2}`,
			`{"name":"Medics","type":"collection","operation":"contains","measurements":"flatten(teams[*].players.attributes[roles])",
			  "referenceValue":"medic","minCount":2}`},
	} {
		rs := mustParse(t, `{"ruleLanguageVersion":"1.0",
		 "playerAttributes":[{"name":"skill","type":"number"},{"name":"roles","type":"string_list","default":[]}],
		 "teams":[`+tc.teams+`],"rules":[`+tc.rule+`]}`)
		e := flexmatch.NewEngine(rs, flexmatch.Options{})
		for i := range 20 { // more than the exact search takes
			tk := solo(fmt.Sprint("t", i), float64(i), float64(i), nil)
			if i%2 == 1 {
				tk.Players[0].Attributes["roles"] = flexmatch.StringList("medic")
			}
			if err := e.Add(tk); err != nil {
				t.Fatal(err)
			}
		}
		if ms := e.Cycle(at(30)); len(ms) == 0 {
			t.Errorf("%s: no match from 20 tickets", tc.name)
		}
	}
}

// A match short of a lower bound is refilled past the usual few rounds:
// the candidates nearest the anchor are the ones least likely to reach a
// minDistance, so the build keeps going until further ones do.
func TestGreedySearchLooksFurtherForALowerBound(t *testing.T) {
	rs := mustParse(t, `{"ruleLanguageVersion":"1.0","playerAttributes":[{"name":"skill","type":"number"}],
	 "teams":[{"name":"a","minPlayers":1,"maxPlayers":1},{"name":"b","minPlayers":1,"maxPlayers":1}],
	 "rules":[{"name":"Apart","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
	           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","minDistance":50,"maxDistance":300}]}`)
	e := flexmatch.NewEngine(rs, flexmatch.Options{})
	for i := range 60 { // thirty of skill 1000, thirty of 1100
		if err := e.Add(solo(fmt.Sprint("t", i), 0, float64(1000+100*(i%2)), nil)); err != nil {
			t.Fatal(err)
		}
	}
	if ms := e.Cycle(at(1)); len(ms) != 30 {
		t.Errorf("got %d matches, want 30: every 1000 with an 1100", len(ms))
	}
}
