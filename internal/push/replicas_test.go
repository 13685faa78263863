package push_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/bus/pgbus"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/push"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/postgres"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
)

// replicaEvents opens the PostgreSQL bus of one replica and its relay of
// "events committed".
func replicaEvents(ctx context.Context, t *testing.T, url, id string) *bus.Events {
	t.Helper()
	b, err := pgbus.New(ctx, pgbus.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	go b.Run(ctx)
	select {
	case <-b.Listening():
	case <-time.After(30 * time.Second):
		t.Fatal("the bus never listened")
	}
	return bus.NewEvents(b, id, nil)
}

// twoReplicas is a Hub on replica A of two sharing a PostgreSQL database,
// served over HTTP, and an env whose events commit on replica B. A's
// outbox readers poll on fake clocks that never move, so only the bus's
// wake-up can bring them B's events: the Hub's on a clock of its own, the
// operator streams' on the env's, whose timers are theirs alone.
func twoReplicas(t *testing.T) *env {
	t.Helper()
	url := pgtest.NewDatabase(t)
	ctx, stop := context.WithCancel(context.Background())
	fake := clock.NewFake(testStart)
	open := func() store.Store {
		db, err := postgres.Open(ctx, postgres.Config{URL: url, Clock: fake})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbA, dbB := open(), open()
	t.Cleanup(stop) // the buses stop before the stores close
	eventsA, eventsB := replicaEvents(ctx, t, url, "a"), replicaEvents(ctx, t, url, "b")
	go eventsB.Announce(ctx, dbB.(store.EventNotifier))
	e := serveHub(t, dbA, fake, func(cfg *push.Config) {
		cfg.Wake = eventsA.Wake
		cfg.Outbox = outbox.New(outbox.Config{Store: dbA, Clock: clock.NewFake(testStart), Poll: time.Hour, Wake: eventsA.Wake})
	})
	e.store = dbB
	return e
}

// TestAPlayerStreamSeesEventsCommittedByAnotherReplica: a player's
// WebSocket is on replica A, and its MatchmakingSucceeded commits on
// replica B.
func TestAPlayerStreamSeesEventsCommittedByAnotherReplica(t *testing.T) {
	e := twoReplicas(t)
	p := e.signIn()
	c := e.dial(p.AccessToken, "")
	hello(t, c)
	id := e.ticketEvent(matchmaking.EventSucceeded, map[string]string{p.IdentityID: "psess-p"}, ticket("tp", p.IdentityID))
	m := next(t, c)
	if m.ID != id || m.Ticket == nil || m.Ticket.Status != "COMPLETED" || m.Ticket.GameSessionConnectionInfo == nil ||
		m.Ticket.GameSessionConnectionInfo.MatchedPlayerSessions[0].PlayerSessionID != "psess-p" {
		t.Fatalf("got %+v, want MatchmakingSucceeded %s with the player's session", m, id)
	}
}

// TestAnOperatorStreamSeesEventsCommittedByAnotherReplica: an operator's
// event stream is on replica A, and the events commit on replica B after
// the stream has read everything there was.
func TestAnOperatorStreamSeesEventsCommittedByAnotherReplica(t *testing.T) {
	e := twoReplicas(t)
	armed := e.clock.Timers()
	first := e.ticketEvent(matchmaking.EventSearching, nil, ticket("t1", "p1"))
	r, closeStream := e.openSSE("/v1/admin/events?type=MatchmakingSearching", map[string]string{"Accept": "text/event-stream"})
	defer closeStream()
	if ev := r.next(t); !strings.Contains(ev.data, first) {
		t.Fatalf("first event %+v, want %s", ev, first)
	}
	// The stream has caught up and waits on its poll, which never fires:
	// only the bus can wake it now.
	e.clock.WaitForTimers(armed + 1)
	second := e.ticketEvent(matchmaking.EventSearching, nil, ticket("t2", "p2"))
	if ev := r.next(t); !strings.Contains(ev.data, second) {
		t.Fatalf("next event %+v, want %s", ev, second)
	}
}
