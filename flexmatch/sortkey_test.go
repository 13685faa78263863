package flexmatch_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/musterhq/muster/flexmatch"
)

// Sixty league names arrive, each between the previous one and "b", so the
// codes that keep strings sorted in the index run out of room between
// neighbours and are renumbered mid-way; the pool must stay in sort order
// through that. With a batch of one, every ticket's only candidate is its
// neighbour in that order, so each league's two tickets pair up only if the
// order held.
func TestSortedBatchingKeepsOrderWhenCodesAreRenumbered(t *testing.T) {
	rs := mustParse(t, `{"ruleLanguageVersion":"1.0",
	 "playerAttributes":[{"name":"league","type":"string"}],
	 "algorithm":{"batchingPreference":"sorted","sortByAttributes":["league"]},
	 "teams":[{"name":"all","minPlayers":2,"maxPlayers":2}],
	 "rules":[{"name":"SameLeague","type":"comparison","measurements":["flatten(teams[*].players.attributes[league])"],"operation":"="}]}`)
	e := flexmatch.NewEngine(rs, flexmatch.Options{ExactSearchTickets: -1, BatchSize: 1})
	league := func(k int) string { return "a" + strings.Repeat("\x7f", k) }
	add := func(id, lg string, start float64) {
		t.Helper()
		tk := flexmatch.Ticket{ID: id, StartTime: at(start), Players: []flexmatch.Player{{ID: id,
			Attributes: map[string]flexmatch.AttributeValue{"league": flexmatch.String(lg)}}}}
		if err := e.Add(tk); err != nil {
			t.Fatal(err)
		}
	}
	const leagues = 60
	// "a" and "b" take codes 0 and 2^20; every later name halves the gap
	// below 2^20, where float64 has about 52 halvings to give.
	add("0-1", league(0), 0)
	add("b-1", "b", 0.001)
	for k := 1; k < leagues; k++ {
		add(fmt.Sprintf("%d-1", k), league(k), float64(k+1)/100)
	}
	add("b-2", "b", 1)
	for k := range leagues {
		add(fmt.Sprintf("%d-2", k), league(k), 1+float64(k+1)/100)
	}
	ms := e.Cycle(at(5))
	if len(ms) != leagues+1 {
		t.Fatalf("%d matches, want %d (one per league)", len(ms), leagues+1)
	}
	for _, m := range ms {
		a, b, _ := strings.Cut(m.TicketIDs[0], "-")
		c, d, _ := strings.Cut(m.TicketIDs[1], "-")
		if a != c || b == d {
			t.Fatalf("match %v pairs different leagues", m.TicketIDs)
		}
	}
}
