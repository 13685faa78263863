package lease_test

import (
	"context"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/lease"
)

// skewed runs replicas a and b on one store, b's clock reading skew ahead
// of a's (both advance together: only their readings differ).
func skewed(t *testing.T, skew time.Duration) (tick func(d time.Duration), a, b *lease.Manager) {
	t.Helper()
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	ca, cb := clock.NewFake(start), clock.NewFake(start.Add(skew))
	st := sqliteHandles(t, ca)[0]
	run := &running{now: map[string]lease.Lease{}}
	a = lease.NewManager(lease.Config{Store: st, Clock: ca, Replica: "a", TTL: ttl})
	b = lease.NewManager(lease.Config{Store: st, Clock: cb, Replica: "b", TTL: ttl})
	for _, p := range pieces {
		a.Register(p, run.work("a"))
		b.Register(p, run.work("b"))
	}
	t.Cleanup(func() {
		for _, p := range pieces {
			a.Unregister(context.Background(), p)
			b.Unregister(context.Background(), p)
		}
	})
	return func(d time.Duration) { ca.Advance(d); cb.Advance(d) }, a, b
}

// A replica whose clock is ahead does not take a lease its holder keeps
// renewing, however far its expiry lies in that replica's past: it gets
// only what the holder sheds to share fairly.
func TestAClockAheadTakesNoLiveLease(t *testing.T) {
	ctx := context.Background()
	advance, a, b := skewed(t, 10*time.Second)
	a.Tick(ctx) // a alone holds every piece
	for range 10 {
		advance(ttl / 3)
		a.Tick(ctx)
		b.Tick(ctx)
		for _, l := range b.Held() {
			for _, mine := range a.Held() {
				if mine.Name == l.Name {
					t.Fatalf("b, 10 s ahead, took %s while a holds it and keeps renewing it", l.Name)
				}
			}
		}
	}
	if got := len(a.Held()) + len(b.Held()); got != len(pieces) {
		t.Fatalf("a and b hold %d pieces, want %d", got, len(pieces))
	}
}

// A replica whose clock is behind takes a dead holder's pieces as soon as
// it has seen their leases unrenewed for TTL, not TTL plus the skew.
func TestAClockBehindTakesOverADeadHolderInTime(t *testing.T) {
	ctx := context.Background()
	advance, a, b := skewed(t, -30*time.Second)
	a.Tick(ctx)
	b.Tick(ctx) // b sees a's leases; then a dies
	for i := range 5 {
		advance(time.Second)
		b.Tick(ctx)
		if len(b.Held()) == len(pieces) {
			if i+1 < int(ttl/time.Second) {
				t.Fatalf("b took over %d s after a's last renewal, before TTL", i+1)
			}
			return
		}
	}
	t.Fatalf("b, 30 s behind, holds %d of %d pieces 5 s after a died; want all after TTL (%v)", len(b.Held()), len(pieces), ttl)
}
