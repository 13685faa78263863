package fleet_test

import (
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// TestOneAgentAtATimeRunsACompute: two agents given one compute name
// (cloned hosts share a host name) would each end the processes the other
// reports. While the agent that runs a compute is live, another agent
// instance is refused with Conflict and the first's processes are left as
// they are; once the first is gone — silent for the lost window, lost, or
// deregistered — a new instance takes the compute over. Agents that send
// no instance id are accepted.
func TestOneAgentAtATimeRunsACompute(t *testing.T) {
	window := fleet.LostAfterHeartbeats * fleettest.HeartbeatInterval
	setUp := func(t *testing.T) twinEnv {
		e := twinEnv{fleettest.New(t, "custom-twins"), t}
		if _, err := e.beat("first", "p-first"); err != nil {
			t.Fatal(err)
		}
		return e
	}
	check := func(e twinEnv, id, want string) {
		e.t.Helper()
		var p fleet.Process
		err := e.Store.View(e.Ctx, func(r store.Reader) (err error) {
			p, _, err = fleet.GetProcess(e.Ctx, r, id)
			return err
		})
		if err != nil || p.Status != want {
			e.t.Fatalf("process %s is %s (%v), want %s", id, p.Status, err, want)
		}
	}
	t.Run("a second agent is refused while the first is live, and the first's processes are untouched", func(t *testing.T) {
		e := setUp(t)
		e.Clock.Advance(window - time.Second)
		if _, err := e.beat("second"); !fault.Is(err, fault.Conflict) {
			t.Fatalf("the second agent's heartbeat: %v, want Conflict", err)
		}
		check(e, "p-first", fleet.ProcessPending)
		// RegisterCompute after a refused claim does not happen; after an
		// accepted one (the first agent restarting its registration) it
		// keeps the claim.
		if _, err := e.Fleets.RegisterCompute(e.Ctx, &gamelift.RegisterComputeInput{FleetId: e.FleetID, ComputeName: fleettest.Compute, Location: "custom-twins", IpAddress: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.beat("second"); !fault.Is(err, fault.Conflict) {
			t.Fatalf("the second agent's heartbeat after a registration: %v, want Conflict", err)
		}
		if _, err := e.beat("first", "p-first"); err != nil {
			t.Fatalf("the first agent's heartbeat: %v", err)
		}
		check(e, "p-first", fleet.ProcessPending)
	})
	t.Run("a new agent takes over a compute silent for the lost window", func(t *testing.T) {
		e := setUp(t)
		e.Clock.Advance(window)
		if _, err := e.beat("second"); err != nil {
			t.Fatalf("the new agent's heartbeat: %v", err)
		}
		check(e, "p-first", fleet.ProcessTerminated) // it no longer runs
		if _, err := e.beat("first", "p-first"); !fault.Is(err, fault.Conflict) {
			t.Fatalf("the old agent's heartbeat after the takeover: %v, want Conflict", err)
		}
	})
	t.Run("a new agent takes over a lost compute", func(t *testing.T) {
		e := setUp(t)
		e.Clock.Advance(window + time.Second)
		if err := e.Fleets.SweepLostComputes(e.Ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.beat("second"); err != nil {
			t.Fatalf("the new agent's heartbeat: %v", err)
		}
		if c, err := e.Fleets.ComputeOf(e.Ctx, e.FleetID, fleettest.Compute); err != nil || c.Status != gamelift.ComputeActive {
			t.Fatalf("compute %s (%v), want ACTIVE again", c.Status, err)
		}
	})
	t.Run("a new agent takes over a compute registered again after it was deregistered", func(t *testing.T) {
		e := setUp(t)
		if _, err := e.Fleets.DeregisterCompute(e.Ctx, &gamelift.DeregisterComputeInput{FleetId: e.FleetID, ComputeName: fleettest.Compute}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.beat("second"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("a heartbeat of a deregistered compute: %v, want NotFound", err)
		}
		if _, err := e.Fleets.RegisterCompute(e.Ctx, &gamelift.RegisterComputeInput{FleetId: e.FleetID, ComputeName: fleettest.Compute, Location: "custom-twins", IpAddress: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.beat("second"); err != nil {
			t.Fatalf("the new agent's heartbeat: %v", err)
		}
	})
	t.Run("an agent that sends no instance id is accepted", func(t *testing.T) {
		e := setUp(t)
		if _, err := e.beat("", "p-first"); err != nil {
			t.Fatalf("a heartbeat without an instance id: %v", err)
		}
		if _, err := e.beat("second"); !fault.Is(err, fault.Conflict) {
			t.Fatalf("after it, another instance's heartbeat: %v, want Conflict (the claim stands)", err)
		}
	})
}

// twinEnv is a fleet whose compute agents heartbeat.
type twinEnv struct {
	*fleettest.Env
	t *testing.T
}

// beat sends a heartbeat of fleettest.Compute from agent instance, which
// runs the processes ids.
func (e twinEnv) beat(instance string, ids ...string) (agentwire.Reply, error) {
	hb := agentwire.Heartbeat{InstanceID: instance, Processes: []agentwire.Process{}}
	for i, id := range ids {
		hb.Processes = append(hb.Processes, agentwire.Process{ProcessID: id, PID: 100 + i})
	}
	return e.Fleets.Heartbeat(e.Ctx, e.FleetID, fleettest.Compute, hb)
}
