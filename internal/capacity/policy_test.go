package capacity_test

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
)

func (e *env) put(in gamelift.PutScalingPolicyInput) error {
	in.FleetId = e.FleetID
	_, err := e.svc.PutScalingPolicy(e.Ctx, &in)
	return err
}

func (e *env) evaluate(triggered bool) {
	e.t.Helper()
	if err := e.svc.Evaluate(context.Background(), triggered); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) desired() int32 { e.t.Helper(); return *e.counts().DESIRED }

func rule(name, metric, op string, threshold float64, periods int32, adjType string, adj int32) gamelift.PutScalingPolicyInput {
	return gamelift.PutScalingPolicyInput{Name: name, MetricName: metric, PolicyType: gamelift.PolicyRuleBased, ComparisonOperator: op,
		Threshold: &threshold, EvaluationPeriods: &periods, ScalingAdjustmentType: adjType, ScalingAdjustment: &adj}
}

func TestPutScalingPolicyValidatesAsGameLift(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		in      gamelift.PutScalingPolicyInput
		mention string
	}{
		{"an unknown metric is refused", rule("r", "Players", gamelift.CompareGreater, 1, 1, gamelift.AdjustChangeInCapacity, 1), "MetricName: must be one of"},
		{"a rule needs its evaluation periods", rule("r", "QueueDepth", gamelift.CompareGreater, 1, 0, gamelift.AdjustChangeInCapacity, 1), "EvaluationPeriods: is required"},
		{"a rule needs a comparison", rule("r", "QueueDepth", "Bigger", 1, 1, gamelift.AdjustChangeInCapacity, 1), "ComparisonOperator: must be one of"},
		{"a rule needs an adjustment type", rule("r", "QueueDepth", gamelift.CompareGreater, 1, 1, "More", 1), "ScalingAdjustmentType: must be one of"},
		{"a target policy tracks PercentAvailableGameSessions only", gamelift.PutScalingPolicyInput{Name: "t", MetricName: "QueueDepth", PolicyType: gamelift.PolicyTargetBased,
			TargetConfiguration: &gamelift.TargetConfiguration{TargetValue: ptr(20.0)}}, "MetricName: must be PercentAvailableGameSessions"},
		{"a target policy needs its target", gamelift.PutScalingPolicyInput{Name: "t", MetricName: "PercentAvailableGameSessions", PolicyType: gamelift.PolicyTargetBased}, "TargetConfiguration.TargetValue: is required"},
		{"a target policy takes no rule members", gamelift.PutScalingPolicyInput{Name: "t", MetricName: "PercentAvailableGameSessions", PolicyType: gamelift.PolicyTargetBased,
			TargetConfiguration: &gamelift.TargetConfiguration{TargetValue: ptr(20.0)}, Threshold: ptr(1.0)}, "Threshold: is for RuleBased policies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.put(tt.in)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.Invalid || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("got %v, want Invalid mentioning %q", err, tt.mention)
			}
		})
	}
	t.Run("policies are described with their status, replaced by name and deleted", func(t *testing.T) {
		if err := e.put(rule("out", "AvailableGameSessions", gamelift.CompareLess, 1, 1, gamelift.AdjustChangeInCapacity, 1)); err != nil {
			t.Fatal(err)
		}
		if err := e.put(rule("out", "AvailableGameSessions", gamelift.CompareLess, 2, 1, gamelift.AdjustChangeInCapacity, 1)); err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.DescribeScalingPolicies(e.Ctx, &gamelift.DescribeScalingPoliciesInput{FleetId: e.FleetID, Location: loc})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ScalingPolicies) != 1 || out.ScalingPolicies[0].Status != "ACTIVE" || *out.ScalingPolicies[0].Threshold != 2 || out.ScalingPolicies[0].Location != loc {
			t.Fatalf("%+v", out.ScalingPolicies)
		}
		if _, err := e.svc.DeleteScalingPolicy(e.Ctx, &gamelift.DeleteScalingPolicyInput{FleetId: e.FleetID, Name: "out"}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.DeleteScalingPolicy(e.Ctx, &gamelift.DeleteScalingPolicyInput{FleetId: e.FleetID, Name: "out"})
		if !fault.Is(err, fault.NotFound) {
			t.Fatalf("deleting again: %v", err)
		}
	})
}

func TestRuleBasedPoliciesCountPeriodsAndAreDampedByTheCooldown(t *testing.T) {
	e := newEnv(t)
	e.setCapacity(1, 1, 4)
	// Scale out when no game session can start, in when a compute idles:
	// each change makes the other rule true, so without a cool-down the
	// two would alternate every minute.
	if err := e.put(rule("out", "AvailableGameSessions", gamelift.CompareLess, 1, 2, gamelift.AdjustChangeInCapacity, 1)); err != nil {
		t.Fatal(err)
	}
	if err := e.put(rule("in", "IdleInstances", gamelift.CompareGreaterOrEqual, 1, 1, gamelift.AdjustChangeInCapacity, -1)); err != nil {
		t.Fatal(err)
	}
	e.process("host-1", true) // host-1 is busy: nothing available, no idle compute
	e.evaluate(false)
	if d := e.desired(); d != 1 {
		t.Fatalf("after one period of two, desired %d", d)
	}
	e.Clock.Advance(time.Minute)
	e.evaluate(false)
	if d := e.desired(); d != 2 {
		t.Fatalf("after two periods, desired %d", d)
	}
	// The new compute registers and its process is ready: a game session
	// can start, and IdleInstances ≥ 1.
	e.register("host-2")
	e.process("host-2", false)
	for i := 1; i < 5; i++ {
		e.Clock.Advance(time.Minute)
		e.evaluate(false)
		if d := e.desired(); d != 2 {
			t.Fatalf("%d min after scaling out, desired %d: scale-in within the cool-down", i, d)
		}
	}
	e.Clock.Advance(time.Minute)
	e.evaluate(false)
	if d := e.desired(); d != 1 {
		t.Fatalf("after the cool-down, desired %d", d)
	}
	if !e.hasEvent("Desired capacity of custom-a changed from 2 to 1: policy in: IdleInstances") {
		t.Fatalf("events %q", e.events())
	}
}

func TestStoppedAutoScalingIsNotEvaluated(t *testing.T) {
	e := newEnv(t)
	e.setCapacity(1, 1, 4)
	if err := e.put(rule("out", "AvailableGameSessions", gamelift.CompareLess, 1, 1, gamelift.AdjustExactCapacity, 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Fleets.StopFleetActions(e.Ctx, &gamelift.StopFleetActionsInput{FleetId: e.FleetID, Actions: []string{gamelift.FleetActionAutoScaling}}); err != nil {
		t.Fatal(err)
	}
	e.evaluate(false)
	if d := e.desired(); d != 1 {
		t.Fatalf("stopped: desired %d", d)
	}
	if _, err := e.Fleets.StartFleetActions(e.Ctx, &gamelift.StartFleetActionsInput{FleetId: e.FleetID, Actions: []string{gamelift.FleetActionAutoScaling}}); err != nil {
		t.Fatal(err)
	}
	e.evaluate(false)
	if d := e.desired(); d != 3 {
		t.Fatalf("started: desired %d", d)
	}
}

func TestTargetTrackingSetsDesiredAsGameLiftDoes(t *testing.T) {
	e := newEnv(t)
	e.setCapacity(1, 0, 10)
	target := gamelift.PutScalingPolicyInput{Name: "t", MetricName: "PercentAvailableGameSessions", PolicyType: gamelift.PolicyTargetBased,
		TargetConfiguration: &gamelift.TargetConfiguration{TargetValue: ptr(25.0)}}
	if err := e.put(target); err != nil {
		t.Fatal(err)
	}
	// One process per compute (the fleet's runtime configuration is
	// empty): three busy computes need a fourth for 25 % to be free.
	e.register("host-2")
	e.register("host-3")
	for _, c := range []string{"host-1", "host-2", "host-3"} {
		e.process(c, true)
	}
	e.evaluate(false)
	if d := e.desired(); d != 4 {
		t.Fatalf("desired %d, want 4", d)
	}
	t.Run("a triggered evaluation does not scale in", func(t *testing.T) {
		e.setCapacity(8, 0, 10)
		e.Clock.Advance(time.Hour)
		e.evaluate(true)
		if d := e.desired(); d != 8 {
			t.Fatalf("desired %d", d)
		}
		e.evaluate(false)
		if d := e.desired(); d != 4 {
			t.Fatalf("desired %d after a periodic evaluation", d)
		}
	})
}

func TestPoliciesOfADeletedFleetGo(t *testing.T) {
	e := newEnv(t)
	if err := e.put(rule("out", "QueueDepth", gamelift.CompareGreater, 0, 1, gamelift.AdjustChangeInCapacity, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Fleets.DeregisterCompute(e.Ctx, &gamelift.DeregisterComputeInput{FleetId: e.FleetID, ComputeName: "host-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Fleets.DeleteFleet(e.Ctx, &gamelift.DeleteFleetInput{FleetId: e.FleetID}); err != nil {
		t.Fatal(err)
	}
	e.evaluate(false)
	_, err := e.svc.DeleteScalingPolicy(e.Ctx, &gamelift.DeleteScalingPolicyInput{FleetId: e.FleetID, Name: "out"})
	if !fault.Is(err, fault.NotFound) {
		t.Fatalf("the policy of a deleted fleet is still there: %v", err)
	}
}

func (e *env) policyStatus(name string) string {
	e.t.Helper()
	out, err := e.svc.DescribeScalingPolicies(e.Ctx, &gamelift.DescribeScalingPoliciesInput{FleetId: e.FleetID})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range out.ScalingPolicies {
		if p.Name == name {
			return p.Status
		}
	}
	e.t.Fatalf("no policy %s in %+v", name, out.ScalingPolicies)
	return ""
}

// wantPolicyStatus checks that the policy name is status and that a fleet
// event, beginning with event, says why.
func (e *env) wantPolicyStatus(t *testing.T, name, status, event string) {
	t.Helper()
	if s := e.policyStatus(name); s != status {
		t.Fatalf("policy %s is %s, want %s", name, s, status)
	}
	if !e.hasEvent(event) {
		t.Fatalf("no event %q in %q", event, e.events())
	}
}

func TestAPolicyIsErrorWhileItCannotBeEvaluated(t *testing.T) {
	e := newEnv(t)
	if err := os.WriteFile(e.failFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.setCapacity(1, 0, 5)
	if err := e.put(rule("out", "IdleInstances", gamelift.CompareLess, 2, 1, gamelift.AdjustChangeInCapacity, 1)); err != nil {
		t.Fatal(err)
	}
	t.Run("a failing provisioner leaves it ACTIVE until it keeps failing", func(t *testing.T) {
		e.evaluate(false) // desired 2: a host is asked for, and fails
		e.reconcile()
		if s := e.policyStatus("out"); s != gamelift.ScalingStatusActive {
			t.Fatalf("status %s after one failure", s)
		}
		for range 2 {
			e.Clock.Advance(capacity.DefaultMaxBackoff)
			e.reconcile()
		}
		e.evaluate(false)
		e.wantPolicyStatus(t, "out", gamelift.ScalingStatusError, "Scaling policy out is ERROR: the provisioner of custom-a keeps failing: compute muster-")
		out, err := e.svc.DescribeScalingPolicies(e.Ctx, &gamelift.DescribeScalingPoliciesInput{FleetId: e.FleetID, StatusFilter: gamelift.ScalingStatusError})
		if err != nil || len(out.ScalingPolicies) != 1 {
			t.Fatalf("StatusFilter ERROR: %+v %v", out, err)
		}
	})
	t.Run("an ERROR policy is not in force", func(t *testing.T) {
		before := e.desired()
		e.Clock.Advance(time.Minute)
		e.evaluate(false)
		if got := e.desired(); got != before {
			t.Fatalf("desired %d → %d while the policy is ERROR", before, got)
		}
	})
	t.Run("it is ACTIVE again once the host registers", func(t *testing.T) {
		os.Remove(e.failFile)
		e.Clock.Advance(capacity.DefaultMaxBackoff)
		e.reconcile()
		calls := e.provisioned()
		e.register(strings.Fields(calls[len(calls)-1])[2])
		e.reconcile()
		e.evaluate(false)
		e.wantPolicyStatus(t, "out", gamelift.ScalingStatusActive, "Scaling policy out is ACTIVE again")
	})
}

func TestAQueueMetricWithoutPlacementQueuesIsError(t *testing.T) {
	e := newEnv(t) // no placement backlog: QueueDepth and WaitTime cannot be computed
	if err := e.put(rule("queue", "QueueDepth", gamelift.CompareGreater, 0, 1, gamelift.AdjustChangeInCapacity, 1)); err != nil {
		t.Fatal(err)
	}
	e.evaluate(false)
	e.wantPolicyStatus(t, "queue", gamelift.ScalingStatusError, "Scaling policy queue is ERROR: metric QueueDepth cannot be computed")
}

func TestTargetCapacityStaysAPositiveCountForATargetJustBelowOneHundred(t *testing.T) {
	if n := capacity.TargetCapacity(25, 3, 1); n != 4 {
		t.Fatalf("25%% of 3 busy computes: %d, want 4", n)
	}
	// 2,000 game sessions at a target a hair below 100 % want ~1.8e19
	// computes, beyond int64; converted unchecked, the count would be
	// negative and scale the location in.
	if n := capacity.TargetCapacity(math.Nextafter(100, 0), 2000, 1); n != math.MaxInt32 {
		t.Fatalf("got %d, want %d", n, math.MaxInt32)
	}
}
