package capacity_test

import (
	"testing"
	"time"

	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
)

// Placements finding no capacity trigger an evaluation every ten seconds.
// A triggered scale-out waits for the capacity the last one added to be
// ready — its computes registered and their processes ACTIVE — or for a
// minute, GameLift's evaluation period, to pass: otherwise "QueueDepth > 0
// → +1" would add a compute every ten seconds while the first one boots.
func TestATriggeredScaleOutWaitsForTheCapacityItAddedToBeReady(t *testing.T) {
	e := newFleetEnv(t, "custom-a")
	e.setCapacity("custom-a", 1, 0, 10)
	e.process("custom-a", "host-1", true) // host-1 is busy
	e.queue(placement.Queue{Name: "q"})
	e.wait("q", 1, placement.Placement{})
	e.put(rule("queue", "QueueDepth", gamelift.CompareGreater, 0, 1, gamelift.AdjustChangeInCapacity, 1))

	e.evaluate(true)
	if d := e.desired("custom-a"); d != 2 {
		t.Fatalf("first trigger: desired %d, want 2", d)
	}
	// The host registers: nothing is pending any more, but its server
	// process is not ready yet.
	e.register("custom-a", "host-2")
	e.Clock.Advance(10 * time.Second)
	e.evaluate(true)
	if d := e.desired("custom-a"); d != 2 {
		t.Fatalf("a trigger while the added host's process is not ready: desired %d, want 2", d)
	}
	e.process("custom-a", "host-2", true)
	e.Clock.Advance(10 * time.Second)
	e.evaluate(true)
	if d := e.desired("custom-a"); d != 3 {
		t.Fatalf("a trigger once the added capacity is ready: desired %d, want 3", d)
	}
	// host-3 registers, but its process never becomes ready: a minute
	// after the scale-out, the next trigger scales out regardless.
	e.register("custom-a", "host-3")
	e.Clock.Advance(capacity.DefaultEvaluationInterval - time.Second)
	e.evaluate(true)
	if d := e.desired("custom-a"); d != 3 {
		t.Fatalf("a trigger within a minute of the last scale-out: desired %d, want 3", d)
	}
	e.Clock.Advance(time.Second)
	e.evaluate(true)
	if d := e.desired("custom-a"); d != 4 {
		t.Fatalf("a trigger a minute after the last scale-out: desired %d, want 4", d)
	}
}
