package agent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent"
	"github.com/musterhq/muster/internal/agent/agentwire"
)

// A process the control plane says is TERMINATING (it was told to end,
// with the drain grace this agent reports as its termination time) is
// stopped once it has been TERMINATING for that grace, not before.
func TestSupervisorStopsAProcessToldToEndAfterItsDrainGrace(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 1, "sleep"))
	h := start(t, control, c, func(cfg *agent.Config) { cfg.DrainGrace = 20 * time.Second })
	ps := h.launched(1)
	h.logOf(ps[0].ProcessID, "ready")
	control.set(func(f *fakeControl) { f.statuses[ps[0].ProcessID] = agentwire.StatusTerminating })
	c.Advance(10 * time.Second) // the heartbeat that says TERMINATING
	h.next(agent.EventHeartbeat)
	if got := control.lastHeartbeat().DrainGraceSeconds; got != 20 {
		t.Fatalf("the heartbeat reports a drain grace of %d s, want 20", got)
	}
	c.Advance(10 * time.Second) // TERMINATING for 10 s: within the grace
	h.next(agent.EventHeartbeat)
	c.Advance(10 * time.Second) // 20 s
	stopped := h.next(agent.EventStopping)
	if stopped.ProcessID != ps[0].ProcessID || !strings.Contains(stopped.Reason, "told to terminate") {
		t.Fatalf("stopped %+v, want %s, told to terminate", stopped, ps[0].ProcessID)
	}
}
