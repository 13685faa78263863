package fleet_test

import (
	"errors"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
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

// TestHeartbeatSaysHowTheProcessesTheAgentSaysExitedEnded checks the agent
// contract for short lives: a process that connected, became ready and
// ended before the agent ever reported it, and one that became ready and
// then exited without ProcessEnding, are both named in the agent's Exited
// list; each ends at that heartbeat, and the answer says how, which tells
// the agent a clean end from a crash.
func TestHeartbeatSaysHowTheProcessesTheAgentSaysExitedEnded(t *testing.T) {
	e := fleettest.New(t, "custom-hb")
	ctx, svc, fleetID := e.Ctx, e.Fleets, e.FleetID
	token, err := svc.GetComputeAuthToken(ctx, &gamelift.GetComputeAuthTokenInput{FleetId: fleetID, ComputeName: fleettest.Compute})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ended", "quit", "never-ready"} {
		if _, _, err := svc.AttachProcess(ctx, token.AuthToken, fleetID, fleettest.Compute, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"ended", "quit"} {
		if _, err := svc.ProcessReady(ctx, id, 7000, "5.0.0", "Go", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.EndProcess(ctx, "ended", fleet.EndProcessEnding); err != nil {
		t.Fatal(err)
	}
	reply, err := svc.Heartbeat(ctx, fleetID, fleettest.Compute, agentwire.Heartbeat{Exited: []string{"ended", "quit", "never-ready", "unknown"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]agentwire.ProcessStatus{}
	for _, p := range reply.Processes {
		got[p.ProcessID] = p
	}
	want := map[string]agentwire.ProcessStatus{
		"ended":       {ProcessID: "ended", Status: fleet.ProcessTerminated, EndReason: agentwire.EndProcessEnding, WasReady: true},
		"quit":        {ProcessID: "quit", Status: fleet.ProcessTerminated, EndReason: fleet.EndExited, WasReady: true},
		"never-ready": {ProcessID: "never-ready", Status: fleet.ProcessTerminated, EndReason: fleet.EndExited},
	}
	if len(got) != len(want) {
		t.Fatalf("answer %+v, want %+v", reply.Processes, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: answered %+v, want %+v", id, got[id], w)
		}
	}
}

// TestHeartbeatReadsOnlyTheProcessesItConcerns checks that an ended
// process leaves its compute's index, so a compute that runs a fresh
// process per game session does not read its whole history at every
// heartbeat, and that an ended process the agent still runs is still
// answered TERMINATED rather than taken for a new one.
func TestHeartbeatReadsOnlyTheProcessesItConcerns(t *testing.T) {
	e := fleettest.New(t, "custom-hb")
	ctx, svc, fleetID := e.Ctx, e.Fleets, e.FleetID
	if _, err := svc.Heartbeat(ctx, fleetID, fleettest.Compute, agentwire.Heartbeat{Processes: []agentwire.Process{{ProcessID: "old", PID: 1}, {ProcessID: "ending", PID: 2}, {ProcessID: "live", PID: 3}}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"old", "ending"} {
		if err := svc.EndProcess(ctx, id, fleet.EndProcessEnding); err != nil {
			t.Fatal(err)
		}
	}
	// "old" has exited; "ending" called ProcessEnding but still runs.
	reply, err := svc.Heartbeat(ctx, fleetID, fleettest.Compute, agentwire.Heartbeat{Processes: []agentwire.Process{{ProcessID: "ending", PID: 2}, {ProcessID: "live", PID: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range reply.Processes {
		got[p.ProcessID] = p.Status
	}
	if len(got) != 2 || got["ending"] != fleet.ProcessTerminated || got["live"] != fleet.ProcessPending {
		t.Fatalf("answer %+v, want ending TERMINATED and live PENDING", reply.Processes)
	}
	var indexed []string
	err = e.Store.View(ctx, func(r store.Reader) error {
		items, err := r.Find(ctx, store.Query{Kind: fleet.KindProcess, Key: 2, Value: fleetID + "/" + fleettest.Compute, Limit: 100})
		for _, it := range items {
			indexed = append(indexed, it.ID)
		}
		return err
	})
	if err != nil || len(indexed) != 1 || indexed[0] != "live" {
		t.Fatalf("the compute's index holds %v (%v), want only the live process", indexed, err)
	}
}
