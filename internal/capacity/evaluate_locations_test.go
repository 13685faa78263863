package capacity_test

import (
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
)

// Ten placements wait on a fleet of three locations, each compute running
// one process. Counted in every location, they made a 20 % target ask
// for 13 computes in each, 39 in all; each counts once, in the location
// the placer would try first (custom-a: destination, then location
// order), so that location asks for the 13 they need, and the others
// only keep the one free slot a target above zero keeps everywhere.
func TestQueuedPlacementsScaleOnlyTheLocationTheyWouldGoTo(t *testing.T) {
	e := newFleetEnv(t, "custom-a", "custom-b", "custom-c")
	for _, l := range []string{"custom-a", "custom-b", "custom-c"} {
		e.setCapacity(l, 0, 0, 50)
	}
	e.queue(placement.Queue{Name: "q"})
	e.wait("q", 10, placement.Placement{})
	e.put(targetPolicy("t", 20))
	e.evaluate(false)
	want := map[string]int32{"custom-a": 13, "custom-b": 1, "custom-c": 1}
	total := int32(0)
	for l, n := range want {
		got := e.desired(l)
		total += got
		if got != n {
			t.Errorf("%s: desired %d, want %d", l, got, n)
		}
	}
	if total != 15 {
		t.Fatalf("desired %d computes in all for 10 queued game sessions, want 15", total)
	}
}

// A rule on QueueDepth fires only where the queue would place its
// game sessions, not in every location at once.
func TestAQueueDepthRuleFiresInOneLocation(t *testing.T) {
	e := newFleetEnv(t, "custom-a", "custom-b", "custom-c")
	for _, l := range []string{"custom-a", "custom-b", "custom-c"} {
		e.setCapacity(l, 1, 0, 50)
	}
	e.queue(placement.Queue{Name: "q", LocationOrder: []string{"custom-b"}})
	e.wait("q", 3, placement.Placement{})
	e.put(rule("queue", "QueueDepth", gamelift.CompareGreater, 0, 1, gamelift.AdjustChangeInCapacity, 1))
	e.evaluate(false)
	for l, n := range map[string]int32{"custom-a": 1, "custom-b": 2, "custom-c": 1} {
		if got := e.desired(l); got != n {
			t.Errorf("%s: desired %d, want %d", l, got, n)
		}
	}
}

// custom-a's provisioner keeps failing while custom-b's works: the policy
// is ERROR, with its fleet event, and leaves custom-a alone, but custom-b,
// which must take custom-a's players, still scales out.
func TestAFailingLocationLeavesTheOthersScaling(t *testing.T) {
	e := newFleetEnv(t, "custom-a", "custom-b")
	e.failProvisioner("custom-a")
	e.setCapacity("custom-a", 2, 0, 10) // host-1 is there: one host to provision
	e.setCapacity("custom-b", 2, 0, 10)
	e.reconcile("custom-a")
	for range 2 {
		e.Clock.Advance(capacity.DefaultMaxBackoff)
		e.reconcile("custom-a")
	}
	e.put(rule("out", "AvailableGameSessions", gamelift.CompareLessOrEqual, 0, 1, gamelift.AdjustChangeInCapacity, 5))
	e.evaluate(false)

	if got := e.desired("custom-b"); got != 7 {
		t.Errorf("custom-b: desired %d, want 7", got)
	}
	if got := e.desired("custom-a"); got != 2 {
		t.Errorf("custom-a, whose provisioner keeps failing: desired %d, want 2", got)
	}
	out, err := e.svc.DescribeScalingPolicies(e.Ctx, &gamelift.DescribeScalingPoliciesInput{FleetId: e.FleetID})
	if err != nil || len(out.ScalingPolicies) != 1 || out.ScalingPolicies[0].Status != gamelift.ScalingStatusError {
		t.Fatalf("policies %+v, %v; want out ERROR", out, err)
	}
	if !e.hasEvent("Scaling policy out is ERROR: the provisioner of custom-a keeps failing") {
		t.Fatalf("no ERROR event naming custom-a")
	}
}

func (e *fleetEnv) hasEvent(prefix string) bool {
	e.t.Helper()
	out, err := e.Fleets.DescribeFleetEvents(e.Ctx, &gamelift.DescribeFleetEventsInput{FleetId: e.FleetID, Limit: ptr[int32](100)})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range out.Events {
		if strings.HasPrefix(ev.Message, prefix) {
			return true
		}
	}
	return false
}
