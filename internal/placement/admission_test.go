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
	e, f, q, startIn := newAdmissionEnv(t)
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
}

// The door is stricter than a placement: a new ticket is refused once the
// waiting placements would take more than a quarter of the queue's
// timeout, while a match already made is still placed up to the full
// timeout — so the backlog stays short enough for players to still be
// there when their game session starts.
func TestTheDoorRefusesNewTicketsBeforeTheQueueRefusesPlacements(t *testing.T) {
	e, f, q, startIn := newAdmissionEnv(t)
	// One game session placed: the queue places 0.1 a second over the
	// 10 s window, so 1.5 waiting placements fill the door's 15 s and 6
	// the placements' 60 s.
	e.process(f, "custom-a")
	if err := startIn("placed"); err != nil {
		t.Fatal(err)
	}
	if p := e.wait("placed"); p.Status != gamelift.PlacementFulfilled {
		t.Fatalf("placement placed ended %s", p.Status)
	}
	for _, id := range []string{"m1", "m2"} {
		if err := startIn(id); err != nil {
			t.Fatal(err)
		}
	}
	e.timers(2) // both found no process and wait
	err := e.svc.AdmitTicket(e.ctx, []string{q})
	if !errors.Is(err, store.ErrOverloaded) || !contains(err.Error(), "2 placements wait") || !contains(err.Error(), "within 15s, the share of its 1m0s timeout a new ticket may wait") {
		t.Fatalf("AdmitTicket with 2 placements waiting at 0.1/s = %v, want store.ErrOverloaded naming the 15 s share", err)
	}
	if err := startIn("m3"); err != nil {
		t.Fatalf("a match's placement with 2 waiting at 0.1/s, within the 60 s timeout, was refused: %v", err)
	}
	e.timers(3) // m3 found no process either
	// Once the backlog is placed the door opens again.
	for range 3 {
		e.process(f, "custom-a")
	}
	e.clk.Advance(time.Second) // the retries find the processes
	for _, id := range []string{"m1", "m2", "m3"} {
		if p := e.wait(id); p.Status != gamelift.PlacementFulfilled {
			t.Fatalf("placement %s ended %s", id, p.Status)
		}
	}
	if err := e.svc.AdmitTicket(e.ctx, []string{q}); err != nil {
		t.Fatalf("AdmitTicket with the backlog placed: %v", err)
	}
}

// newAdmissionEnv is a placement service that admits 2 waiting placements
// at least, a fleet f in custom-a with no process, queue q (60 s timeout)
// on it, and startIn, matchmaking's way to start a placement in q.
func newAdmissionEnv(t *testing.T) (e *env, f, q string, startIn func(id string) error) {
	e = newEnv(t, envOptions{admitWaiting: 2})
	f = e.fleet("1", "custom-a")
	q = e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", TimeoutInSeconds: ptr(int32(60)),
		Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	startIn = func(id string) error {
		return e.db.Update(context.Background(), func(w store.Writer) error {
			return e.svc.StartIn(context.Background(), w, placement.Request{PlacementID: id, QueueName: q, MaximumPlayerSessionCount: 2})
		})
	}
	return e, f, q, startIn
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
