package push_test

import (
	"context"
	"strings"
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
	if p, o := e.metricLabel("muster_push_resets_total", "stream", "player"), e.metricLabel("muster_push_resets_total", "stream", "operator"); p != 1 || o != 0 {
		t.Fatalf("resets: player %v, operator %v; want 1 and 0", p, o)
	}
}

// An operator stream resuming from before the pruned mark gets a reset,
// counted on the resets metric as the operator stream's; one opened
// without a cursor gets none and counts nothing.
func TestAnOperatorStreamResetIsCounted(t *testing.T) {
	e := newEnv(t, nil)
	e.clock.Advance(8 * 24 * time.Hour)
	e.append(searchingAt(e.arns, "t1", []string{"p1"}, e.clock.Now().Add(-8*24*time.Hour)))
	kept := e.ticketEvent(matchmaking.EventSearching, nil, ticket("t2", "p1"))
	if n, err := e.store.(store.EventPruner).PruneEvents(context.Background(), e.clock.Now().Add(-7*24*time.Hour), 1<<62, 100); err != nil || n == 0 {
		t.Fatalf("pruned %d: %v", n, err)
	}
	r, closeStream := e.openSSE("/v1/admin/events", map[string]string{"Accept": "text/event-stream"})
	if ev := r.next(t); !strings.Contains(ev.data, kept) {
		t.Fatalf("without a cursor: got %+v, want %s", ev, kept)
	}
	closeStream()
	r, closeStream = e.openSSE("/v1/admin/events", map[string]string{"Accept": "text/event-stream", "Last-Event-ID": "0"})
	defer closeStream()
	if ev := r.next(t); ev.event != "reset" {
		t.Fatalf("resuming from 0: got %+v, want a reset", ev)
	}
	if ev := r.next(t); !strings.Contains(ev.data, kept) {
		t.Fatalf("after the reset: got %+v, want %s", ev, kept)
	}
	if p, o := e.metricLabel("muster_push_resets_total", "stream", "player"), e.metricLabel("muster_push_resets_total", "stream", "operator"); p != 0 || o != 1 {
		t.Fatalf("resets: player %v, operator %v; want 0 and 1", p, o)
	}
}
