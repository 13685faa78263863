//go:build unix

package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/api/locations"
	"github.com/musterhq/muster/internal/testenv"
)

// These tests run `muster serve` on the fake clock with the local
// provisioner in location custom-cap: capacity changes start and stop real
// `muster agent` processes, which run examples/arena. Agents heartbeat
// rarely (--agent-heartbeat-interval 10m), so that minutes of fake time do
// not make them look lost.

const capLoc = "custom-cap"

func startCapacityServer(t *testing.T) (*testenv.Server, *gamelift.Client, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs muster, local agents and arena")
	}
	s := testenv.Start(t, testenv.WithArgs("--sdk-listen", "127.0.0.1:0", "--fake-clock", "--agent-heartbeat-interval", "10m",
		"--capacity-scale-in-cooldown", "60s", "--capacity-provisioners", `{"`+capLoc+`": {"kind": "local", "drainGrace": "5s"}}`))
	fleetID := s.CreateArenaFleet(t, testenv.ArenaFleet{Name: "capacity", Processes: 1, Locations: []string{capLoc}})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("fleet events:\n%s", strings.Join(fleetEventMessages(t, s.Admin(), fleetID), "\n"))
			for id, g := range gameSessionStatuses(t, s.Admin(), fleetID) {
				t.Logf("game session %s: %s %s", id, g.Status, g.StatusReason)
			}
		}
	})
	return s, s.Admin(), fleetID
}

// capacityCounts is the fleet's instance counts in capLoc.
func capacityCounts(t *testing.T, gl *gamelift.Client, fleetID string) types.EC2InstanceCounts {
	t.Helper()
	return capacityCountsIn(t, gl, fleetID, capLoc)
}

// capacityCountsIn is the fleet's instance counts in one location.
func capacityCountsIn(t *testing.T, gl *gamelift.Client, fleetID, loc string) types.EC2InstanceCounts {
	t.Helper()
	out, err := gl.DescribeFleetLocationCapacity(context.Background(), &gamelift.DescribeFleetLocationCapacityInput{FleetId: aws.String(fleetID), Location: aws.String(loc)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.FleetCapacity.InstanceCounts
}

func fulfilled(t *testing.T, gl *gamelift.Client, ids []string) int {
	t.Helper()
	n := 0
	for _, id := range ids {
		out, err := gl.DescribeGameSessionPlacement(context.Background(), &gamelift.DescribeGameSessionPlacementInput{PlacementId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if out.GameSessionPlacement.Status == types.GameSessionPlacementStateFulfilled {
			n++
		}
	}
	return n
}

func gameSessionStatuses(t *testing.T, gl *gamelift.Client, fleetID string) map[string]types.GameSession {
	t.Helper()
	out, err := gl.DescribeGameSessions(context.Background(), &gamelift.DescribeGameSessionsInput{FleetId: aws.String(fleetID), Location: aws.String(capLoc)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]types.GameSession{}
	for _, g := range out.GameSessions {
		m[aws.ToString(g.GameSessionId)] = g
	}
	return m
}

func computes(t *testing.T, gl *gamelift.Client, fleetID string) map[string]types.ComputeStatus {
	t.Helper()
	out, err := gl.ListCompute(context.Background(), &gamelift.ListComputeInput{FleetId: aws.String(fleetID)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]types.ComputeStatus{}
	for _, c := range out.ComputeList {
		m[aws.ToString(c.ComputeName)] = c.ComputeStatus
	}
	return m
}

func fleetEventMessages(t *testing.T, gl *gamelift.Client, fleetID string) []string {
	t.Helper()
	out, err := gl.DescribeFleetEvents(context.Background(), &gamelift.DescribeFleetEventsInput{FleetId: aws.String(fleetID), Limit: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range out.Events {
		msgs = append(msgs, aws.ToString(e.Message))
	}
	return msgs
}

// TestCapacityFollowsTheQueueWithTheLocalProvisioner scales a location out
// on a queue backlog up to its maximum, then in at night down to its
// minimum, and checks that no game session — protected or not — is cut.
func TestCapacityFollowsTheQueueWithTheLocalProvisioner(t *testing.T) {
	t.Parallel()
	s, gl, fleetID := startCapacityServer(t)
	ctx := context.Background()
	fleetArn := "arn:aws:gamelift:mu-local-1:000000000000:fleet/" + fleetID
	if _, err := gl.UpdateFleetCapacity(ctx, &gamelift.UpdateFleetCapacityInput{FleetId: aws.String(fleetID), Location: aws.String(capLoc),
		DesiredInstances: aws.Int32(0), MinSize: aws.Int32(0), MaxSize: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := gl.PutScalingPolicy(ctx, &gamelift.PutScalingPolicyInput{FleetId: aws.String(fleetID), Name: aws.String("backlog"),
		PolicyType: types.PolicyTypeRuleBased, MetricName: types.MetricNameQueueDepth, ComparisonOperator: types.ComparisonOperatorTypeGreaterThanThreshold,
		Threshold: aws.Float64(0), EvaluationPeriods: aws.Int32(1), ScalingAdjustmentType: types.ScalingAdjustmentTypeChangeInCapacity, ScalingAdjustment: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := gl.CreateGameSessionQueue(ctx, &gamelift.CreateGameSessionQueueInput{Name: aws.String("cap-queue"),
		Destinations: []types.GameSessionQueueDestination{{DestinationArn: aws.String(fleetArn)}}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 4 {
		id := fmt.Sprintf("cap-%d", i)
		ids = append(ids, id)
		if _, err := gl.StartGameSessionPlacement(ctx, &gamelift.StartGameSessionPlacementInput{PlacementId: aws.String(id),
			GameSessionQueueName: aws.String("cap-queue"), MaximumPlayerSessionCount: aws.Int32(2)}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a placement without capacity scales out at once, then each minute up to the maximum", func(t *testing.T) {
		testenv.Eventually(t, "the first placement on a provisioned compute", 60*time.Second, func() bool { return fulfilled(t, gl, ids) >= 1 })
		// Each minute, or sooner when placements still find no capacity
		// and no host is on its way, the backlog adds a compute.
		// One count per minute: a placement fulfilled between two counts
		// must not raise the mark the next one waits past.
		for minute := 0; ; minute++ {
			n := fulfilled(t, gl, ids)
			if n >= 3 {
				break
			}
			if minute == 3 {
				t.Fatalf("%d placements fulfilled after three minutes", n)
			}
			advance(t, s, 60)
			testenv.Eventually(t, "another placement fulfilled", 60*time.Second, func() bool { return fulfilled(t, gl, ids) > n })
		}
		advance(t, s, 60)
		c := capacityCounts(t, gl, fleetID)
		if *c.DESIRED != 3 || *c.MAXIMUM != 3 || *c.ACTIVE != 3 || *c.PENDING != 0 || *c.IDLE != 0 {
			t.Fatalf("counts at the maximum with one placement still waiting: %+v", c)
		}
		if n := len(computes(t, gl, fleetID)); n != 3 {
			t.Fatalf("%d computes", n)
		}
	})

	t.Run("scale-in at night down to the minimum never cuts protected or active game sessions", func(t *testing.T) {
		// The four placements started together: any three may have been
		// placed. Stop the one still waiting.
		for _, id := range ids {
			out, err := gl.DescribeGameSessionPlacement(ctx, &gamelift.DescribeGameSessionPlacementInput{PlacementId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			if out.GameSessionPlacement.Status != types.GameSessionPlacementStatePending {
				continue
			}
			if _, err := gl.StopGameSessionPlacement(ctx, &gamelift.StopGameSessionPlacementInput{PlacementId: aws.String(id)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := gl.DeleteScalingPolicy(ctx, &gamelift.DeleteScalingPolicyInput{FleetId: aws.String(fleetID), Name: aws.String("backlog")}); err != nil {
			t.Fatal(err)
		}
		sessions := gameSessionStatuses(t, gl, fleetID)
		var protected string
		for id := range sessions {
			protected = id
			break
		}
		if _, err := gl.UpdateGameSession(ctx, &gamelift.UpdateGameSessionInput{GameSessionId: aws.String(protected), ProtectionPolicy: types.ProtectionPolicyFullProtection}); err != nil {
			t.Fatal(err)
		}
		if _, err := gl.UpdateFleetCapacity(ctx, &gamelift.UpdateFleetCapacityInput{FleetId: aws.String(fleetID), Location: aws.String(capLoc), MinSize: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
		if _, err := gl.PutScalingPolicy(ctx, &gamelift.PutScalingPolicyInput{FleetId: aws.String(fleetID), Name: aws.String("night"),
			MetricName: types.MetricNameCurrentPlayerSessions, ComparisonOperator: types.ComparisonOperatorTypeLessThanOrEqualToThreshold,
			Threshold: aws.Float64(0), EvaluationPeriods: aws.Int32(1), ScalingAdjustmentType: types.ScalingAdjustmentTypeChangeInCapacity, ScalingAdjustment: aws.Int32(-3)}); err != nil {
			t.Fatal(err)
		}
		advance(t, s, 60)
		testenv.Eventually(t, "two computes draining", 30*time.Second, func() bool {
			c := capacityCounts(t, gl, fleetID)
			return *c.DESIRED == 1 && *c.ACTIVE == 1 && *c.TERMINATING == 2
		})
		advance(t, s, 20) // reconcile passes: nothing may be released yet
		for id, g := range gameSessionStatuses(t, gl, fleetID) {
			if g.Status != types.GameSessionStatusActive {
				t.Fatalf("game session %s is %s (%s) after the scale-in: it was cut; fleet events %q", id, g.Status, g.StatusReason, fleetEventMessages(t, gl, fleetID))
			}
		}
		if n := len(computes(t, gl, fleetID)); n != 3 {
			t.Fatalf("%d computes: a compute hosting a game session was released", n)
		}
		// The games end on their own: the drained computes are released
		// and deregister; the one left keeps the minimum.
		for id := range gameSessionStatuses(t, gl, fleetID) {
			if _, err := gl.TerminateGameSession(ctx, &gamelift.TerminateGameSessionInput{GameSessionId: aws.String(id),
				TerminationMode: types.TerminationModeTriggerOnProcessTerminate}); err != nil {
				t.Fatal(err)
			}
		}
		testenv.Eventually(t, "the drained computes released and deregistered", 60*time.Second, func() bool {
			advance(t, s, 10)
			return len(computes(t, gl, fleetID)) == 1
		})
		if c := capacityCounts(t, gl, fleetID); *c.DESIRED != 1 || *c.ACTIVE != 1 || *c.MINIMUM != 1 {
			t.Fatalf("counts at the minimum: %+v", c)
		}
		events := fleetEventMessages(t, gl, fleetID)
		if !slices.ContainsFunc(events, func(m string) bool { return strings.Contains(m, "is draining: scale-in of custom-cap") }) {
			t.Fatalf("no drain event in %q", events)
		}
	})
}

// TestScalingOperationsWithTheGoSDK drives the scaling operations and
// UpdateFleetCapacity with the real Go SDK client.
func TestScalingOperationsWithTheGoSDK(t *testing.T) {
	t.Parallel()
	s, gl, fleetID := startCapacityServer(t)
	ctx := context.Background()
	t.Run("a policy is put, described with its status, replaced and deleted", func(t *testing.T) {
		in := &gamelift.PutScalingPolicyInput{FleetId: aws.String(fleetID), Name: aws.String("keep-20"), PolicyType: types.PolicyTypeTargetBased,
			MetricName: types.MetricNamePercentAvailableGameSessions, TargetConfiguration: &types.TargetConfiguration{TargetValue: aws.Float64(20)}}
		if out, err := gl.PutScalingPolicy(ctx, in); err != nil || aws.ToString(out.Name) != "keep-20" {
			t.Fatalf("%v %v", out, err)
		}
		out, err := gl.DescribeScalingPolicies(ctx, &gamelift.DescribeScalingPoliciesInput{FleetId: aws.String(fleetID), StatusFilter: types.ScalingStatusTypeActive})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ScalingPolicies) != 1 || out.ScalingPolicies[0].PolicyType != types.PolicyTypeTargetBased ||
			aws.ToFloat64(out.ScalingPolicies[0].TargetConfiguration.TargetValue) != 20 || out.ScalingPolicies[0].Status != types.ScalingStatusTypeActive {
			t.Fatalf("%+v", out.ScalingPolicies)
		}
		if _, err := gl.DeleteScalingPolicy(ctx, &gamelift.DeleteScalingPolicyInput{FleetId: aws.String(fleetID), Name: aws.String("keep-20")}); err != nil {
			t.Fatal(err)
		}
		_, err = gl.DeleteScalingPolicy(ctx, &gamelift.DeleteScalingPolicyInput{FleetId: aws.String(fleetID), Name: aws.String("keep-20")})
		var nf *types.NotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("deleting again: %v", err)
		}
	})
	t.Run("a bad policy is refused naming the member", func(t *testing.T) {
		_, err := gl.PutScalingPolicy(ctx, &gamelift.PutScalingPolicyInput{FleetId: aws.String(fleetID), Name: aws.String("bad"),
			PolicyType: types.PolicyTypeRuleBased, MetricName: types.MetricNameQueueDepth, ComparisonOperator: types.ComparisonOperatorTypeGreaterThanThreshold,
			Threshold: aws.Float64(0), ScalingAdjustmentType: types.ScalingAdjustmentTypeChangeInCapacity, ScalingAdjustment: aws.Int32(1)})
		var bad *types.InvalidRequestException
		if !errors.As(err, &bad) || !strings.Contains(aws.ToString(bad.Message), "EvaluationPeriods") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("fleet actions stop and start auto-scaling", func(t *testing.T) {
		if _, err := gl.StopFleetActions(ctx, &gamelift.StopFleetActionsInput{FleetId: aws.String(fleetID), Location: aws.String(capLoc), Actions: []types.FleetAction{types.FleetActionAutoScaling}}); err != nil {
			t.Fatal(err)
		}
		if _, err := gl.StartFleetActions(ctx, &gamelift.StartFleetActionsInput{FleetId: aws.String(fleetID), Actions: []types.FleetAction{types.FleetActionAutoScaling}}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("UpdateFleetCapacity starts a local agent whose compute registers and runs the fleet", func(t *testing.T) {
		if _, err := gl.UpdateFleetCapacity(ctx, &gamelift.UpdateFleetCapacityInput{FleetId: aws.String(fleetID), Location: aws.String(capLoc),
			DesiredInstances: aws.Int32(1), MinSize: aws.Int32(0), MaxSize: aws.Int32(2)}); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "an ACTIVE compute with a ready process", 60*time.Second, func() bool {
			c := capacityCounts(t, gl, fleetID)
			return *c.ACTIVE == 1 && *c.PENDING == 0 && s.ActiveProcesses(ctx, fleetID) == 1
		})
		assertAgentKeys(t, s, fleetID)
		// Its agent answers latency pings, listed for players like any
		// location's.
		testenv.Eventually(t, "the location measured through its agent's beacon", 30*time.Second, func() bool {
			ms, err := locations.MeasureAll(ctx, nil, s.URL(), 3)
			return err == nil && ms[capLoc] >= 1
		})
		if _, err := gl.UpdateFleetCapacity(ctx, &gamelift.UpdateFleetCapacityInput{FleetId: aws.String(fleetID), Location: aws.String(capLoc), DesiredInstances: aws.Int32(0)}); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "the idle compute drained, released and deregistered", 60*time.Second, func() bool {
			advance(t, s, 10)
			return len(computes(t, gl, fleetID)) == 0
		})
	})
}

// assertAgentKeys checks that the local provisioner's agents run with an
// agent key bound to their fleet: the only keys besides the test's admin
// key are agent keys of fleetID, none an admin key a game server on the
// host could read from its agent's environment.
func assertAgentKeys(t *testing.T, s *testenv.Server, fleetID string) {
	t.Helper()
	resp, body, err := s.Bearer(context.Background(), "GET", "/v1/admin/keys", "")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /v1/admin/keys: %v %s", err, body)
	}
	var out struct {
		Keys []struct {
			AccessKeyID, Role, FleetID, Description string
			Revoked                                 bool
		}
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	agents := 0
	for _, k := range out.Keys {
		if k.Revoked || k.AccessKeyID == testenv.AdminKeyID {
			continue
		}
		if k.Role != "agent" || k.FleetID != fleetID {
			t.Errorf("an active key %s (%s) has role %s for fleet %q: the local agents should have only agent keys of fleet %s", k.AccessKeyID, k.Description, k.Role, k.FleetID, fleetID)
		}
		agents++
	}
	if agents == 0 {
		t.Errorf("no agent key of fleet %s among %s", fleetID, body)
	}
}

// TestAFailingProvisionerIsRetriedAndReported gives a location an exec
// provisioner whose command fails, and checks its retries in fleet events
// and metrics, and that the fleet's scaling policy goes to ERROR as the
// provisioner keeps failing.
func TestAFailingProvisionerIsRetriedAndReported(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs muster")
	}
	s := testenv.Start(t, testenv.WithArgs("--fake-clock", "--capacity-provisioners", `{"custom-broken": {"kind": "exec", "command": ["/bin/sh", "-c", "echo no machines left >&2; exit 3", "provisioner"]}}`))
	gl := s.Admin()
	ctx := context.Background()
	fleetID := s.CreateArenaFleet(t, testenv.ArenaFleet{Name: "broken", Processes: 1, Locations: []string{"custom-broken"}})
	if _, err := gl.UpdateFleetCapacity(ctx, &gamelift.UpdateFleetCapacityInput{FleetId: aws.String(fleetID), Location: aws.String("custom-broken"),
		DesiredInstances: aws.Int32(1), MaxSize: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	failures := func() int {
		n := 0
		for _, m := range fleetEventMessages(t, gl, fleetID) {
			if strings.HasPrefix(m, "Provisioner of custom-broken failed to add compute muster-") && strings.Contains(m, "no machines left") {
				n++
			}
		}
		return n
	}
	testenv.Eventually(t, "a failure event", 30*time.Second, func() bool { return failures() == 1 })
	advance(t, s, 5)
	if n := failures(); n != 1 {
		t.Fatalf("%d failures before the backoff ended", n)
	}
	testenv.Eventually(t, "a retry after the backoff", 30*time.Second, func() bool {
		advance(t, s, 10)
		return failures() >= 2
	})
	if c := capacityCountsIn(t, gl, fleetID, "custom-broken"); *c.PENDING != 1 || *c.ACTIVE != 0 {
		t.Fatalf("counts %+v", c)
	}
	res, body, err := s.Bearer(ctx, "GET", "/metrics", "")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("metrics: %v %v", err, res)
	}
	if !strings.Contains(string(body), `muster_capacity_provision_failures_total{location="custom-broken",reason="error"}`) {
		t.Fatal("no failure metric")
	}
	// A provisioner that keeps failing makes the fleet's policies ERROR.
	if _, err := gl.PutScalingPolicy(ctx, &gamelift.PutScalingPolicyInput{FleetId: aws.String(fleetID), Name: aws.String("keep"),
		MetricName: types.MetricNameIdleInstances, PolicyType: types.PolicyTypeRuleBased, ComparisonOperator: types.ComparisonOperatorTypeLessThanThreshold,
		Threshold: aws.Float64(0), EvaluationPeriods: aws.Int32(1), ScalingAdjustmentType: types.ScalingAdjustmentTypeChangeInCapacity, ScalingAdjustment: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the policy to be ERROR", 30*time.Second, func() bool {
		advance(t, s, 60)
		out, err := gl.DescribeScalingPolicies(ctx, &gamelift.DescribeScalingPoliciesInput{FleetId: aws.String(fleetID), StatusFilter: types.ScalingStatusTypeError})
		return err == nil && len(out.ScalingPolicies) == 1 && aws.ToString(out.ScalingPolicies[0].Name) == "keep"
	})
}

func TestCapacityWithTheJavaScriptSDK(t *testing.T) {
	t.Parallel()
	runJSTests(t, "capacity.test.mjs")
}

// TestCapacityFigures measures, on the real clock with the local
// provisioner, the time from a placement that finds no capacity to a ready
// process (and to its game session ACTIVE), and from a placement to its
// game session ACTIVE with a free process already there. It runs only with
// MUSTER_FIGURES=1 and asserts no timing.
func TestCapacityFigures(t *testing.T) {
	if os.Getenv("MUSTER_FIGURES") == "" {
		t.Skip("a measurement: run with MUSTER_FIGURES=1")
	}
	s := testenv.Start(t, testenv.WithArgs("--sdk-listen", "127.0.0.1:0", "--capacity-provisioners", `{"`+capLoc+`": {"kind": "local", "drainGrace": "5s"}}`))
	gl := s.Admin()
	ctx := context.Background()
	fleetID := s.CreateArenaFleet(t, testenv.ArenaFleet{Name: "figures", Processes: 1, Locations: []string{capLoc}})
	fleetArn := "arn:aws:gamelift:mu-local-1:000000000000:fleet/" + fleetID
	if _, err := gl.UpdateFleetCapacity(ctx, &gamelift.UpdateFleetCapacityInput{FleetId: aws.String(fleetID), Location: aws.String(capLoc),
		DesiredInstances: aws.Int32(0), MinSize: aws.Int32(0), MaxSize: aws.Int32(10)}); err != nil {
		t.Fatal(err)
	}
	if _, err := gl.PutScalingPolicy(ctx, &gamelift.PutScalingPolicyInput{FleetId: aws.String(fleetID), Name: aws.String("backlog"),
		MetricName: types.MetricNameQueueDepth, ComparisonOperator: types.ComparisonOperatorTypeGreaterThanThreshold, Threshold: aws.Float64(0),
		EvaluationPeriods: aws.Int32(1), ScalingAdjustmentType: types.ScalingAdjustmentTypeChangeInCapacity, ScalingAdjustment: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := gl.CreateGameSessionQueue(ctx, &gamelift.CreateGameSessionQueueInput{Name: aws.String("fig"),
		Destinations: []types.GameSessionQueueDestination{{DestinationArn: aws.String(fleetArn)}}}); err != nil {
		t.Fatal(err)
	}
	place := func(id string) (ready, active time.Duration) {
		t0 := time.Now()
		if _, err := gl.StartGameSessionPlacement(ctx, &gamelift.StartGameSessionPlacementInput{PlacementId: aws.String(id),
			GameSessionQueueName: aws.String("fig"), MaximumPlayerSessionCount: aws.Int32(2)}); err != nil {
			t.Fatal(err)
		}
		for {
			if ready == 0 && s.ActiveProcesses(ctx, fleetID) > 0 {
				ready = time.Since(t0)
			}
			out, err := gl.DescribeGameSessionPlacement(ctx, &gamelift.DescribeGameSessionPlacementInput{PlacementId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			if out.GameSessionPlacement.Status == types.GameSessionPlacementStateFulfilled {
				return ready, time.Since(t0)
			}
			if time.Since(t0) > time.Minute {
				t.Fatalf("placement %s not fulfilled within a minute", id)
			}
			time.Sleep(5 * time.Millisecond) // polling a real process, on real time
		}
	}
	ready, active := place("cold")
	t.Logf("no capacity → ready process with the local provisioner: %v (target ≤ 3s); → game session ACTIVE: %v", ready, active)
	// A second compute, warm and idle, for the free-slot figure.
	if _, err := gl.UpdateFleetCapacity(ctx, &gamelift.UpdateFleetCapacityInput{FleetId: aws.String(fleetID), Location: aws.String(capLoc), DesiredInstances: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "an idle process", 60*time.Second, func() bool {
		out, err := gl.DescribeFleetLocationUtilization(ctx, &gamelift.DescribeFleetLocationUtilizationInput{FleetId: aws.String(fleetID), Location: aws.String(capLoc)})
		return err == nil && aws.ToInt32(out.FleetUtilization.ActiveServerProcessCount) == 2
	})
	_, warm := place("warm")
	t.Logf("free process on an existing compute → game session ACTIVE: %v (target ≤ 1s)", warm)
}
