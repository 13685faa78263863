package flexmatch_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/flexmatch"
)

// In a pool small enough for the exact search, Explain answers with what the
// next cycle will really do: A pairs with B (the oldest valid pair), so C,
// which could pair with B too, is told its match exists but is used
// otherwise; once A and B are matched, C has no valid match at all.
func TestExplainInAPoolSolvedExactly(t *testing.T) {
	rs := mustParse(t, `{"ruleLanguageVersion":"1.0",
	 "playerAttributes":[{"name":"skill","type":"number"}],
	 "teams":[{"name":"all","minPlayers":2,"maxPlayers":2}],
	 "rules":[{"name":"Close","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
	           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","maxDistance":10}]}`)
	e := flexmatch.NewEngine(rs, flexmatch.Options{})
	for i, tk := range []struct {
		id    string
		skill float64
	}{{"A", 0}, {"B", 10}, {"C", 20}} {
		if err := e.Add(solo(tk.id, float64(i), tk.skill, nil)); err != nil {
			t.Fatal(err)
		}
	}
	explain := func(id string) flexmatch.Explanation {
		t.Helper()
		x, err := e.Explain(id, at(5))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	if x := explain("A"); !x.Matchable || !slices.Equal(x.Candidates[0].TicketIDs, []string{"A", "B"}) {
		t.Fatalf("A: %+v, want matchable with B", x)
	}
	x := explain("C")
	if x.Matchable || len(x.Candidates) == 0 || !slices.Equal(x.Candidates[0].TicketIDs, []string{"B", "C"}) ||
		!strings.Contains(x.Candidates[0].Shortfall, "uses these tickets otherwise") {
		t.Fatalf("C: %+v\nwant its valid match with B first, marked as used otherwise", x)
	}
	ms := e.Cycle(at(5))
	if len(ms) != 1 || !slices.Equal(ms[0].TicketIDs, []string{"A", "B"}) {
		t.Fatalf("cycle formed %v, want A with B (Explain must change nothing)", ms)
	}
	x, err := e.Explain("C", at(5).Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if x.Matchable || strings.Contains(x.String(), "otherwise") {
		t.Fatalf("C alone: %s", x)
	}
}

func TestExplanationJSONGivesItsDurationsInSeconds(t *testing.T) {
	x := flexmatch.Explanation{TicketID: "t1", Age: 12345678 * time.Microsecond, Step: 1, Steps: 2, NextStep: 2500 * time.Millisecond}
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["ageSeconds"] != 12.346 || got["nextStepSeconds"] != 2.5 || got["ticketId"] != "t1" || got["step"] != 1.0 {
		t.Fatalf("%s: want ageSeconds 12.346 and nextStepSeconds 2.5", b)
	}
	if _, ok := got["age"]; ok {
		t.Fatalf("%s still has a bare age", b)
	}
}
