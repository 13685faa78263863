package push_test

import (
	"context"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/store"
)

// A player resuming from an event the outbox no longer keeps (pruned by
// age, on the fake clock) is told to reset, never handed a silent gap;
// one resuming from a kept event gets what it missed.
func TestAResumeFromAPrunedEventIsAnsweredWithAReset(t *testing.T) {
	e := newEnv(t, nil)
	e.clock.Advance(8 * 24 * time.Hour)
	a := e.signIn()
	old := searchingAt(e.arns, "t1", []string{a.IdentityID}, e.clock.Now().Add(-8*24*time.Hour))
	e.append(old)
	pruned := old.ID
	kept := e.ticketEvent(matchmaking.EventSearching, nil, ticket("t2", a.IdentityID))
	missed := e.ticketEvent(matchmaking.EventSearching, nil, ticket("t3", a.IdentityID))
	before := e.clock.Now().Add(-7 * 24 * time.Hour)
	if n, err := e.store.(store.EventPruner).PruneEvents(context.Background(), before, 1<<62, 100); err != nil || n == 0 {
		t.Fatalf("pruned %d: %v", n, err)
	}
	c := e.dial(a.AccessToken, "?after="+pruned)
	hello(t, c)
	if m := next(t, c); m.Type != "reset" || m.Reason == "" {
		t.Fatalf("resuming from a pruned event: got %+v, want a reset", m)
	}
	c = e.dial(a.AccessToken, "?after="+kept)
	hello(t, c)
	if m := next(t, c); m.ID != missed {
		t.Fatalf("resuming from a kept event: got %+v, want %s", m, missed)
	}
}
