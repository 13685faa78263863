package agent_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent"
)

// TestASecondAgentOfAComputeIsRefusedBeforeItRegisters: the agent claims
// its compute with a heartbeat before RegisterCompute; when the control
// plane answers that another agent runs it (409), the agent stops at once
// with ErrComputeTaken, without registering (which would overwrite the
// other agent's address) or deregistering (which would remove its compute).
func TestASecondAgentOfAComputeIsRefusedBeforeItRegisters(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 1, "sleep"))
	control.conflict = true
	s, err := agent.New(agent.Config{FleetID: "fleet-1", ComputeName: "host-1", Control: control, Launcher: &agent.ExecLauncher{LogDir: t.TempDir()}, Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(t.Context()); !errors.Is(err, agent.ErrComputeTaken) {
		t.Fatalf("Run = %v, want ErrComputeTaken", err)
	}
	if calls := control.calls(); !slices.Equal(calls, []string{"Heartbeat(draining=false)"}) {
		t.Fatalf("calls %v, want only the refused heartbeat", calls)
	}
}

// TestAnAgentWhoseComputeWasTakenOverStopsItsProcessesAndLeavesTheCompute:
// an agent that hears 409 while it runs (another agent took the compute
// over while this one could not get through) stops its processes, whose
// records the control plane already ended, and stops with ErrComputeTaken,
// without a draining heartbeat or DeregisterCompute: the compute is the
// other agent's.
func TestAnAgentWhoseComputeWasTakenOverStopsItsProcessesAndLeavesTheCompute(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 2, "sleep"))
	h := start(t, control, c, nil)
	h.launched(2)
	control.set(func(f *fakeControl) { f.conflict = true })
	c.Advance(10 * time.Second)
	stopped := map[string]bool{}
	for len(stopped) < 2 {
		e := h.next(agent.EventStopping)
		if e.Reason != "another agent runs the compute" {
			t.Fatalf("stopped %s: %s", e.ProcessID, e.Reason)
		}
		stopped[e.ProcessID] = true
	}
	for range 2 {
		h.next(agent.EventExited)
	}
	err := <-h.done
	if !errors.Is(err, agent.ErrComputeTaken) {
		t.Fatalf("Run = %v, want ErrComputeTaken", err)
	}
	h.done <- err // for the cleanup
	calls := control.calls()
	if slices.Contains(calls, "Heartbeat(draining=true)") || slices.Contains(calls, "DeregisterCompute") {
		t.Fatalf("calls %v: an agent that lost its compute told the control plane it drains or deregistered it", calls)
	}
}

// TestHeartbeatsCarryTheAgentsInstanceID: every heartbeat of one run names
// the same instance, the first one before RegisterCompute.
func TestHeartbeatsCarryTheAgentsInstanceID(t *testing.T) {
	c := newClock()
	control := newFakeControl(c)
	start(t, control, c, func(cfg *agent.Config) { cfg.InstanceID = "instance-a" })
	c.Advance(10 * time.Second)
	if calls := control.calls(); len(calls) < 2 || calls[0] != "Heartbeat(draining=false)" || calls[1] != "RegisterCompute" {
		t.Fatalf("calls %v: want the claiming heartbeat, then RegisterCompute", calls)
	}
	control.set(func(f *fakeControl) {
		for i, hb := range f.heartbeats {
			if hb.InstanceID != "instance-a" {
				t.Errorf("heartbeat %d names instance %q, want instance-a", i, hb.InstanceID)
			}
		}
	})

	drawn := newFakeControl(c)
	start(t, drawn, c, nil)
	if id := drawn.lastHeartbeat().InstanceID; len(id) < 16 {
		t.Fatalf("an agent given no instance id sent %q, want one drawn at random", id)
	}
}
