package placement_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/store"
)

// Past capacity, a queue refuses matchmaking's new placements once those
// waiting for a server process would not all be placed within its timeout
// at the rate it places them, so players hear at once instead of waiting
// for a time-out; the control API's StartGameSessionPlacement is never
// refused, and the queue takes new placements again once it places them.
func TestAQueueFarPastCapacityRefusesNewPlacements(t *testing.T) {
	e := newEnv(t, envOptions{admitWaiting: 2})
	f := e.fleet("1", "custom-a")
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", TimeoutInSeconds: ptr(int32(60)),
		Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	startIn := func(id string) error {
		return e.db.Update(context.Background(), func(w store.Writer) error {
			return e.svc.StartIn(context.Background(), w, placement.Request{PlacementID: id, QueueName: q, MaximumPlayerSessionCount: 2})
		})
	}
	for _, id := range []string{"m1", "m2"} {
		if err := startIn(id); err != nil {
			t.Fatal(err)
		}
	}
	e.timers(2) // both found no process and wait
	err := startIn("m3")
	wantKind(t, err, fault.FleetCapacityExceeded, "QueueName", "queue q is past its capacity", "2 placements wait")
	// Matchmaking asks the same at its door, before a ticket is written.
	if err := e.svc.AdmitTicket(e.ctx, []string{"other", q}); !errors.Is(err, store.ErrOverloaded) || !contains(err.Error(), "queue q is past its capacity") {
		t.Fatalf("AdmitTicket with the queue past its capacity = %v, want store.ErrOverloaded naming the queue", err)
	}
	if _, err := e.svc.Placement(e.ctx, "m3"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("the refused placement was recorded: %v", err)
	}
	if err := startIn("m1"); err != nil { // a retried StartIn is still a no-op
		t.Fatal(err)
	}
	e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "direct", GameSessionQueueName: q})
	e.process(f, "custom-a")
	e.clk.Advance(time.Second) // the retries find the process: one is placed
	select {
	case <-e.ended.get("m1"):
	case <-e.ended.get("m2"):
	case <-e.ended.get("direct"):
	case <-time.After(60 * time.Second): // a safety net for a hung test, not a timing check
		t.Fatal("no placement was placed")
	}
	if err := startIn("m4"); err != nil {
		t.Fatalf("with the queue placing again: %v", err)
	}
	if err := e.svc.AdmitTicket(e.ctx, []string{q}); err != nil {
		t.Fatalf("AdmitTicket with the queue placing again: %v", err)
	}
}

func wantKind(t *testing.T, err error, kind fault.Kind, parts ...string) {
	t.Helper()
	if !fault.Is(err, kind) {
		t.Fatalf("error %v, want %v", err, kind)
	}
	for _, p := range parts {
		if !contains(err.Error(), p) {
			t.Fatalf("error %q lacks %q", err, p)
		}
	}
}
