package fleet_test

import (
	"context"
	"testing"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
)

// agentCtx speaks for an agent key bound to fleetID and compute.
func agentCtx(fleetID, compute string) context.Context {
	return auth.With(context.Background(), auth.Principal{Kind: auth.Operator, AccessKeyID: "MKIAAGENT", Role: auth.RoleAgent,
		AgentFleetID: fleetID, AgentCompute: compute})
}

func wantForbidden(t *testing.T, what string, err error) {
	t.Helper()
	if !fault.Is(err, fault.Forbidden) {
		t.Errorf("%s with an agent key = %v, want Forbidden", what, err)
	}
}

// An agent key runs its own computes — register, auth token, runtime
// configuration, heartbeat, deregister — and nothing else: not another
// compute of its fleet (beyond its binding), not a compute of another
// fleet, and no other operation, so that one compromised game host cannot
// end other hosts' game sessions or change what every host runs.
func TestAnAgentKeyRunsOnlyItsOwnComputes(t *testing.T) {
	e := fleettest.New(t, "custom-a")
	other := fleettest.New(t, "custom-a") // another fleet (in its own store: only its id matters)
	fleetID, svc := e.FleetID, e.Fleets
	if fleetID == other.FleetID {
		t.Fatal("the two fleets share an id")
	}
	own := agentCtx(fleetID, "own-*")
	reg := &gamelift.RegisterComputeInput{FleetId: fleetID, ComputeName: "own-1", Location: "custom-a", IpAddress: "127.0.0.1"}
	if _, err := svc.RegisterCompute(own, reg); err != nil {
		t.Fatalf("RegisterCompute of its own compute: %v", err)
	}
	if _, err := svc.GetComputeAuthToken(own, &gamelift.GetComputeAuthTokenInput{FleetId: fleetID, ComputeName: "own-1"}); err != nil {
		t.Fatalf("GetComputeAuthToken of its own compute: %v", err)
	}
	if _, err := svc.DescribeRuntimeConfiguration(own, &gamelift.DescribeRuntimeConfigurationInput{FleetId: fleetID}); err != nil {
		t.Fatalf("DescribeRuntimeConfiguration of its own fleet: %v", err)
	}
	if _, err := svc.Heartbeat(own, fleetID, "own-1", agentwire.Heartbeat{InstanceID: "i-1"}); err != nil {
		t.Fatalf("Heartbeat of its own compute: %v", err)
	}

	// Another compute of its fleet: fleettest.Compute, registered by an admin.
	_, err := svc.Heartbeat(own, fleetID, fleettest.Compute, agentwire.Heartbeat{Draining: true})
	wantForbidden(t, "a heartbeat of another compute of its fleet", err)
	_, err = svc.DeregisterCompute(own, &gamelift.DeregisterComputeInput{FleetId: fleetID, ComputeName: fleettest.Compute})
	wantForbidden(t, "DeregisterCompute of another compute", err)
	_, err = svc.GetComputeAuthToken(own, &gamelift.GetComputeAuthTokenInput{FleetId: fleetID, ComputeName: fleettest.Compute})
	wantForbidden(t, "GetComputeAuthToken of another compute", err)
	reg2 := *reg
	reg2.ComputeName = "elsewhere-1"
	_, err = svc.RegisterCompute(own, &reg2)
	wantForbidden(t, "RegisterCompute outside its binding", err)

	// A compute of another fleet, even one its binding's name would match.
	_, err = other.Fleets.Heartbeat(agentCtx(fleetID, ""), other.FleetID, fleettest.Compute, agentwire.Heartbeat{})
	wantForbidden(t, "a heartbeat of another fleet's compute", err)
	_, err = other.Fleets.DescribeRuntimeConfiguration(agentCtx(fleetID, ""), &gamelift.DescribeRuntimeConfigurationInput{FleetId: other.FleetID})
	wantForbidden(t, "DescribeRuntimeConfiguration of another fleet", err)

	// Nothing else, on its own fleet either.
	_, err = svc.CreateFleet(own, &gamelift.CreateFleetInput{Name: "mine", ComputeType: gamelift.ComputeTypeAnywhere})
	wantForbidden(t, "CreateFleet", err)
	n := int32(1)
	_, err = svc.UpdateRuntimeConfiguration(own, &gamelift.UpdateRuntimeConfigurationInput{FleetId: fleetID,
		RuntimeConfiguration: &gamelift.RuntimeConfiguration{ServerProcesses: []gamelift.ServerProcess{{LaunchPath: "/bin/sh", ConcurrentExecutions: &n}}}})
	wantForbidden(t, "UpdateRuntimeConfiguration", err)
	_, err = svc.DescribeFleetAttributes(own, &gamelift.DescribeFleetAttributesInput{})
	wantForbidden(t, "DescribeFleetAttributes", err)
	_, err = svc.ListCompute(own, &gamelift.ListComputeInput{FleetId: fleetID})
	wantForbidden(t, "ListCompute", err)

	// And its own compute goes away with it.
	if _, err := svc.DeregisterCompute(own, &gamelift.DeregisterComputeInput{FleetId: fleetID, ComputeName: "own-1"}); err != nil {
		t.Fatalf("DeregisterCompute of its own compute: %v", err)
	}
}

// A fleet ARN names the same fleet as its id: the binding holds either way.
func TestAnAgentKeyIsBoundToItsFleetByArnToo(t *testing.T) {
	e := fleettest.New(t, "custom-a")
	arn := gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}.Build(gamelift.ResourceFleet, e.FleetID)
	if _, err := e.Fleets.DescribeRuntimeConfiguration(agentCtx(e.FleetID, ""), &gamelift.DescribeRuntimeConfigurationInput{FleetId: arn}); err != nil {
		t.Fatalf("DescribeRuntimeConfiguration by ARN: %v", err)
	}
	_, err := e.Fleets.DescribeRuntimeConfiguration(agentCtx("fleet-other", ""), &gamelift.DescribeRuntimeConfigurationInput{FleetId: arn})
	wantForbidden(t, "DescribeRuntimeConfiguration of another fleet by ARN", err)
}
