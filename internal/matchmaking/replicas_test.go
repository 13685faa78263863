package matchmaking_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/store"
)

// replicaOf is one replica's matchmaking service under its lease manager,
// sharing the world's store and clock and a bus with the others.
type replicaOf struct {
	svc    *matchmaking.Service
	leases *lease.Manager
}

func (w *world) replica(id string, b bus.Bus) *replicaOf {
	w.t.Helper()
	m := lease.NewManager(lease.Config{Store: w.db, Clock: w.clock, Replica: id, Address: id + ":8080"})
	cfg := w.cfg
	// Every replica has a Gate, as with studio hooks: it must see the rule
	// set's declared types on a replica that does not run the pool.
	cfg.Leases, cfg.Bus, cfg.Gate = m, b, typesGate{}
	svc, err := matchmaking.New(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(w.root.Context())
	if err := svc.Start(ctx); err != nil {
		w.t.Fatal(err)
	}
	w.root.Cleanup(func() {
		cancel()
		svc.Stop()
		m.Unregister(context.Background(), matchmaking.LeaseName("duel"))
	})
	return &replicaOf{svc: svc, leases: m}
}

// typesGate allows a player's ticket only when the draft carries the
// attribute types of the configuration's rule set.
type typesGate struct{}

func (typesGate) GatesTickets(context.Context, string) bool { return true }

func (typesGate) BeforeTicket(_ context.Context, d *matchmaking.TicketDraft) error {
	if d.Types["skill"] != "number" {
		return fmt.Errorf("the draft's attribute types are %v, want skill: number", d.Types)
	}
	return nil
}

// takes ticks r's lease manager until it runs the pool of config: the
// configuration's piece is registered by the service's own loop.
func (r *replicaOf) takes(t *testing.T, w *world, config string) lease.Lease {
	t.Helper()
	for range 5000 {
		r.leases.Tick(w.ctx)
		for _, l := range r.leases.Held() {
			if l.Name == matchmaking.LeaseName(config) && r.svc.Process(w.ctx, config) == nil {
				return l
			}
		}
		time.Sleep(time.Millisecond) // the lease's work starts the pool on its own goroutine
	}
	t.Fatalf("the replica never ran the pool of %s", config)
	return lease.Lease{}
}

// waitStatus waits until the ticket has the status, as read through svc:
// the pools run on their own goroutines.
func (w *world) waitStatus(svc *matchmaking.Service, status string, ids ...string) {
	w.t.Helper()
	for _, id := range ids {
		for i := 0; ; i++ {
			out, err := svc.DescribeMatchmaking(w.ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{id}})
			if err != nil {
				w.t.Fatal(err)
			}
			if out.TicketList[0].Status == status {
				break
			}
			if i == 5000 {
				w.t.Fatalf("ticket %s is %s, want %s", id, out.TicketList[0].Status, status)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// TestPoolOwnedByAnotherReplica: a ticket written on a replica that does
// not run its configuration's pool reaches the owner over the bus; when
// the owner stops renewing its lease, another replica takes the pool,
// rebuilt from the store, and the old owner's writes under its stale lease
// are refused.
func TestPoolOwnedByAnotherReplica(t *testing.T) {
	w := newWorld(t)
	w.ruleSet("duel", duelRules)
	w.standalone("duel", "duel", nil)
	w.stop() // the world's own service runs every pool: replicas a and b take over
	b := &bus.Local{}
	ra, rb := w.replica("a", b), w.replica("b", b)
	first := ra.takes(t, w, "duel")

	// Written on b, matched by a's pool.
	for _, id := range []string{"t1", "t2"} {
		if _, err := rb.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{TicketId: id, ConfigurationName: "duel",
			Players: []gamelift.Player{{PlayerId: "p-" + id, PlayerAttributes: skill(1000)}}}); err != nil {
			t.Fatal(err)
		}
	}
	w.waitStatus(rb.svc, gamelift.TicketCompleted, "t1", "t2")
	x, err := rb.svc.Explain(w.ctx, "t1")
	if err != nil || x.Status != gamelift.TicketCompleted {
		t.Fatalf("explain through the replica without the pool: %+v, %v", x, err)
	}

	// Players start tickets through b too: the rule set comes from the
	// store, not from a pool b does not run.
	if err := ra.svc.SetPlayerAccess(w.ctx, "duel", true); err != nil {
		t.Fatal(err)
	}
	var pt []string
	for _, id := range []string{"alice", "bob"} {
		tk, err := rb.svc.StartForPlayer(player(w.ctx, id), matchmaking.PlayerTicketRequest{ConfigurationName: "duel"})
		if err != nil {
			t.Fatal(err)
		}
		pt = append(pt, tk.TicketId)
	}
	w.waitStatus(rb.svc, gamelift.TicketCompleted, pt...)
	// A ticket no one matches: b's explanation names the replica running
	// its pool.
	if _, err := rb.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{TicketId: "alone", ConfigurationName: "duel",
		Players: []gamelift.Player{{PlayerId: "p-alone", PlayerAttributes: skill(9000)}}}); err != nil {
		t.Fatal(err)
	}
	w.waitStatus(rb.svc, gamelift.TicketSearching, "alone")
	if x, err := rb.svc.Explain(w.ctx, "alone"); err != nil || !strings.Contains(x.Text, "replica a at a:8080") {
		t.Fatalf("b explains a ticket of a's pool as %q (%v), want it to name replica a", x.Text, err)
	}
	if _, err := rb.svc.StopMatchmaking(w.ctx, &gamelift.StopMatchmakingInput{TicketId: "alone"}); err != nil {
		t.Fatal(err)
	}

	// a is paused: b, having seen its lease, sees it unrenewed past its
	// life and takes the pool, at a new epoch.
	rb.leases.Tick(w.ctx)
	w.clock.Advance(lease.DefaultTTL + time.Second)
	second := rb.takes(t, w, "duel")
	if second.Epoch != first.Epoch+1 || second.Holder != "b" {
		t.Fatalf("b runs the pool under %+v, want epoch %d", second, first.Epoch+1)
	}
	// a wakes, unaware, and takes two tickets into its stale pool: its
	// pass records nothing, and the pool stops (Process runs a pass, or
	// finds the pool stopped by the pass the arrivals started).
	for _, id := range []string{"t3", "t4"} {
		if _, err := ra.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{TicketId: id, ConfigurationName: "duel",
			Players: []gamelift.Player{{PlayerId: "p-" + id, PlayerAttributes: skill(1000)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ra.svc.Process(w.ctx, "duel"); err != nil && !strings.Contains(err.Error(), "pool stopped") {
		t.Fatal(err)
	}
	w.wantStatus(gamelift.TicketQueued, "t3", "t4")
	err = w.db.Update(w.ctx, func(wr store.Writer) error { return lease.Check(w.ctx, wr, first, w.clock.Now()) })
	if !errors.Is(err, lease.ErrLost) {
		t.Fatalf("a write under a's lease: %v, want lease.ErrLost", err)
	}
	// a's next lease tick stops its pool; b finds the two tickets in the
	// store at its next catch-up and matches them.
	ra.leases.Tick(w.ctx)
	if err := ra.svc.Process(w.ctx, "duel"); err == nil {
		t.Fatal("a still runs the pool after losing its lease")
	}
	rb.leases.Tick(w.ctx)
	w.clock.Advance(2 * time.Second)
	w.waitStatus(rb.svc, gamelift.TicketCompleted, "t3", "t4")
	if n := len(w.outbox(matchmaking.EventPotentialMatch)); n != 3 {
		t.Fatalf("%d PotentialMatchCreated events, want one for each of the three matches", n)
	}
}
