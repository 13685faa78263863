package matchmaking_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// TestEveryReplicaAnswersEstimatedWaitTime: replica a runs the pool and
// keeps its waits; it shares their mean through the store, so replica b,
// which does not run the pool, gives the same EstimatedWaitTime in
// DescribeMatchmaking and StartMatchmaking.
func TestEveryReplicaAnswersEstimatedWaitTime(t *testing.T) {
	w := newWorld(t)
	w.ruleSet("duel", duelRules)
	w.standalone("duel", "duel", nil)
	w.stop() // replicas a and b take over
	b := &bus.Local{}
	ra, rb := w.replica("a", b), w.replica("b", b)
	ra.takes(t, w, "duel")
	// advance moves the clock in steps that a's lease outlives, renewing it.
	advance := func(d time.Duration) {
		for ; d > 0; d -= time.Second {
			w.clock.Advance(min(d, time.Second))
			ra.leases.Tick(w.ctx)
		}
	}
	start := func(r *replicaOf, id string, sk float64) *gamelift.MatchmakingTicket {
		t.Helper()
		out, err := r.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{TicketId: id, ConfigurationName: "duel",
			Players: []gamelift.Player{{PlayerId: "p-" + id, PlayerAttributes: skill(sk)}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.MatchmakingTicket
	}
	// Five pairs whose first ticket waits 2 s: waits 2, 0, 2, 0 … mean 1 s.
	for i := range 5 {
		a, b := fmt.Sprint("a", i), fmt.Sprint("b", i)
		start(ra, a, 1000)
		w.waitStatus(ra.svc, gamelift.TicketSearching, a)
		advance(2 * time.Second)
		start(ra, b, 1000)
		w.waitStatus(rb.svc, gamelift.TicketCompleted, a, b)
	}
	start(ra, "lonely", 90000) // no one near: it waits
	w.waitStatus(rb.svc, gamelift.TicketSearching, "lonely")
	estimate := func(r *replicaOf) *int32 {
		out, err := r.svc.DescribeMatchmaking(w.ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{"lonely"}})
		if err != nil {
			t.Fatal(err)
		}
		return out.TicketList[0].EstimatedWaitTime
	}
	if got := estimate(rb); got != nil {
		t.Fatalf("b gives EstimatedWaitTime %d before a shared one", *got)
	}
	want := estimate(ra)
	if want == nil || *want != 1 {
		t.Fatalf("the replica running the pool gives EstimatedWaitTime %v, want 1 s", want)
	}

	// a's next share writes the mean to the store; b's cached answer
	// expires at the same pace.
	const interval = 5 * time.Second
	advance(interval)
	for i := 0; ; i++ {
		var found bool
		w.db.View(w.ctx, func(r store.Reader) error {
			_, err := r.Get(w.ctx, "mmwait", "duel")
			found = err == nil
			return nil
		})
		if found {
			break
		}
		if i == 5000 {
			t.Fatal("the pool's owner never shared its wait")
		}
		time.Sleep(time.Millisecond)
	}
	advance(interval)
	if got := estimate(rb); got == nil || *got != *want {
		t.Fatalf("b, without the pool, gives EstimatedWaitTime %v, want a's %d", got, *want)
	}
	if got := start(rb, "late", 50000).EstimatedWaitTime; got == nil || *got != *want {
		t.Fatalf("StartMatchmaking through b gives EstimatedWaitTime %v, want %d", got, *want)
	}
}
