package lease_test

import (
	"context"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/store/faultstore"
)

// A piece unregistered while a Tick is taking its lease (a matchmaking
// configuration deleted as its lease is taken) does not start: nothing
// would stop its work or renew its lease. The lease is released at once,
// so a replica that registers the piece again takes it without waiting;
// before, the lease stayed with a's orphaned work.
func TestAPieceUnregisteredWhileItsLeaseIsTakenDoesNotRun(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	st := faultstore.New(sqliteHandles(t, clk)[0])
	run := &running{now: map[string]lease.Lease{}}
	a := lease.NewManager(lease.Config{Store: st, Clock: clk, Replica: "a", TTL: ttl})
	b := lease.NewManager(lease.Config{Store: st, Clock: clk, Replica: "b", TTL: ttl})
	const piece = "matchmaking/deleted"
	a.Register(piece, run.work("a"))
	t.Cleanup(func() {
		a.Unregister(ctx, piece)
		b.Unregister(ctx, piece)
	})

	// a's Tick writes its heartbeat (update 1), then takes the lease
	// (update 2), which waits while the piece is unregistered.
	reached, release := st.HoldNext(2)
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		a.Tick(ctx)
	}()
	<-reached
	a.Unregister(ctx, piece)
	release()
	<-ticked

	b.Register(piece, run.work("b"))
	b.Tick(ctx)
	if held := b.Held(); len(held) != 1 || held[0].Epoch != 2 {
		t.Fatalf("b holds %+v: it could not take the lease a took for a piece it no longer had", held)
	}
}
