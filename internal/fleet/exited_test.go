package fleet_test

import (
	"testing"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
)

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
