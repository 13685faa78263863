package matchmaking

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/gamelift"
)

// pairRules pairs players whose skills differ by at most 20.
const pairRules = `{"ruleLanguageVersion": "1.0", "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
  "rules": [{"name": "FairSkill", "type": "distance", "measurements": "max(flatten(teams[*].players.attributes[skill]))",
    "referenceValue": "min(flatten(teams[*].players.attributes[skill]))", "maxDistance": 20}]}`

// duelStart is when duelTicket's tickets started.
var duelStart = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// duelPool is a pool of pairRules whose service has no store.
func duelPool(t *testing.T) *pool {
	t.Helper()
	rs, err := flexmatch.Parse([]byte(pairRules))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{cfg: Config{CycleInterval: time.Second}, log: slog.New(slog.DiscardHandler)}
	return newPool(s, configRec{Name: "duel", RequestTimeout: 60}, rs)
}

// duelTicket is a new ticket of one player with skill, as it reaches the
// pool at version (0: unknown).
func duelTicket(id string, skill float64, version int64) arrival {
	return arrival{fresh: true, version: version, rec: ticketRec{ID: id, ConfigName: "duel", Status: gamelift.TicketQueued, Start: duelStart,
		Players: []playerRec{{ID: "p-" + id, Attributes: map[string]gamelift.AttributeValue{"skill": {N: &skill}}}}}}
}

// A pass decides on the pool's memory and the time alone: the service
// here has no store, and every decision is still made.
func TestDecideWorksOnThePoolAloneWithoutAStore(t *testing.T) {
	p, start := duelPool(t), duelStart
	ticket := func(id string, skill float64) arrival { return duelTicket(id, skill, 0) }
	t.Run("two close tickets become a proposal and leave the pool", func(t *testing.T) {
		d := p.decide(inputs{arrivals: []arrival{ticket("a", 1000), ticket("b", 1005)}}, start, false)
		if !slices.Equal(d.fresh, []string{"a", "b"}) || len(d.proposals) != 1 || len(d.timedOut) != 0 {
			t.Fatalf("decisions %+v", d)
		}
		ids := slices.Sorted(slices.Values(d.proposals[0].ticketIDs()))
		if !slices.Equal(ids, []string{"a", "b"}) || d.known["a"] == nil || d.known["b"] == nil || len(p.waiting) != 0 {
			t.Fatalf("proposal %v, known %v, %d still waiting", ids, d.known, len(p.waiting))
		}
	})
	t.Run("a lone ticket waits and times out at its request timeout", func(t *testing.T) {
		if d := p.decide(inputs{arrivals: []arrival{ticket("c", 5000)}}, start, false); len(d.proposals) != 0 || len(p.waiting) != 1 {
			t.Fatalf("decisions %+v", d)
		}
		if d := p.decide(inputs{}, start.Add(59*time.Second), true); !d.empty() {
			t.Fatalf("decisions a second early %+v", d)
		}
		d := p.decide(inputs{}, start.Add(60*time.Second), false)
		if !slices.Equal(d.timedOut, []string{"c"}) || d.known["c"] == nil || len(p.waiting) != 0 {
			t.Fatalf("decisions %+v", d)
		}
	})
	t.Run("a removed ticket is not matched", func(t *testing.T) {
		p.decide(inputs{arrivals: []arrival{ticket("e", 2000)}}, start, false)
		if d := p.decide(inputs{removals: []string{"e"}, arrivals: []arrival{ticket("f", 2000)}}, start, false); len(d.proposals) != 0 {
			t.Fatalf("a removed ticket was matched: %+v", d.proposals)
		}
	})
}

// A copy of a ticket read before the ticket left the pool (a hand-off
// still on its way, a relay message, a catch-up read) does not bring it
// back: the pool would propose it again at a version the store has moved
// past, and the store would refuse the whole pass that wrote it. A copy
// written since it left (back to SEARCHING) comes back.
func TestAStaleCopyOfATicketThatLeftDoesNotComeBack(t *testing.T) {
	p, start, ticket := duelPool(t), duelStart, duelTicket
	// recorded is what record returns: the tickets at the versions it
	// wrote them.
	recorded := func(d decisions, version int64) {
		tx := &txn{tickets: map[string]*txTicket{}}
		for _, id := range d.ticketIDs() {
			tx.tickets[id] = &txTicket{version: version}
		}
		p.leave(d, tx)
	}
	// a arrives as a start hands it over (version 1), b as the pool's
	// first load reads it (version unknown).
	d := p.decide(inputs{arrivals: []arrival{ticket("a", 1000, 1), ticket("b", 1000, 0)}}, start, false)
	if len(d.proposals) != 1 {
		t.Fatalf("a and b were not matched: %+v", d)
	}
	recorded(d, 2)
	if d := p.decide(inputs{arrivals: []arrival{ticket("a", 1000, 1), ticket("b", 1000, 1)}}, start.Add(time.Second), false); !d.empty() || len(p.waiting) != 0 {
		t.Fatalf("stale copies of a and b came back: %+v, %d waiting", d, len(p.waiting))
	}
	// Written since: back to SEARCHING at version 3, or handed back by a
	// caller that does not know the version (0).
	d = p.decide(inputs{arrivals: []arrival{ticket("a", 1000, 3), ticket("b", 1000, 0)}}, start.Add(2*time.Second), false)
	if len(d.proposals) != 1 {
		t.Fatalf("a and b, written since they left, were not matched again: %+v", d)
	}
	recorded(d, 4)
	// Under way, the pool forgets a departure within two generations.
	recorded(p.decide(inputs{arrivals: []arrival{ticket("c", 1000, 1), ticket("d", 1000, 1)}}, start.Add(2*time.Second+departedFor), false), 2)
	recorded(p.decide(inputs{arrivals: []arrival{ticket("e", 1000, 1), ticket("f", 1000, 1)}}, start.Add(2*time.Second+2*departedFor), false), 2)
	if p.departed.stale("a", 4) || !p.departed.stale("c", 2) || !p.departed.stale("e", 2) {
		t.Fatalf("departures kept: %v then %v", p.departed.old, p.departed.cur)
	}
}
