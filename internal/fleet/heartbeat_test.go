package fleet_test

import (
	"errors"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
)

// TestHeartbeatEndsAProcessTheAgentStopsReporting checks the agent
// contract: a process the agent reported (with its pid) and then leaves out
// of a heartbeat has exited, and ends at that heartbeat rather than an
// interval later.
func TestHeartbeatEndsAProcessTheAgentStopsReporting(t *testing.T) {
	e := fleettest.New(t, "custom-hb")
	ctx, clk, svc, fleetID := e.Ctx, e.Clock, e.Fleets, e.FleetID
	status := func(r agentwire.Reply, id string) string {
		for _, p := range r.Processes {
			if p.ProcessID == id {
				return p.Status
			}
		}
		return "absent"
	}
	reply, err := svc.Heartbeat(ctx, fleetID, fleettest.Compute, agentwire.Heartbeat{Processes: []agentwire.Process{{ProcessID: "p-1", PID: 100}, {ProcessID: "p-2", PID: 101}}})
	if err != nil {
		t.Fatal(err)
	}
	if status(reply, "p-1") != fleet.ProcessPending || status(reply, "p-2") != fleet.ProcessPending {
		t.Fatalf("first heartbeat: %+v", reply.Processes)
	}
	clk.Advance(time.Second) // well within one heartbeat interval
	reply, err = svc.Heartbeat(ctx, fleetID, fleettest.Compute, agentwire.Heartbeat{Processes: []agentwire.Process{{ProcessID: "p-2", PID: 101}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := status(reply, "p-1"); got != "absent" {
		t.Fatalf("p-1 left the agent's report but is still %s", got)
	}
	if got := status(reply, "p-2"); got != fleet.ProcessPending {
		t.Fatalf("p-2 is %s, want PENDING", got)
	}
}

func TestHeartbeatNamesEveryBadField(t *testing.T) {
	e := fleettest.New(t, "custom-hb")
	ctx, svc, fleetID := e.Ctx, e.Fleets, e.FleetID
	_, err := svc.Heartbeat(ctx, fleetID, fleettest.Compute, agentwire.Heartbeat{Processes: []agentwire.Process{{ProcessID: "p-1"}, {PID: 7}},
		Beacon: &agentwire.Beacon{Domain: "127.0.0.1", Port: 70000}})
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.Invalid || len(fe.Fields) != 2 ||
		fe.Fields[0].Field != "Processes[1].ProcessId" || fe.Fields[1].Field != "Beacon.Port" {
		t.Fatalf("Heartbeat = %v, want Invalid naming Processes[1].ProcessId and Beacon.Port", err)
	}
	if _, err := svc.Heartbeat(ctx, fleetID, "nope", agentwire.Heartbeat{}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("heartbeat of an unregistered compute: %v, want NotFound", err)
	}
}
