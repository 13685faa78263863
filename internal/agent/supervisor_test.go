package agent_test

import (
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent"
	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/testenv"
)

func newClock() *clock.Fake { return clock.NewFake(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)) }

func killPID(t *testing.T, pid int) {
	t.Helper()
	p, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
}

func TestSupervisorLaunchesTheRuntimeConfigurationWithTheSDKEnvironment(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 2, `sleep "two words"`))
	h := start(t, control, c, nil)
	launched := h.launched(2)
	out := h.logOf(launched[0].ProcessID, "ready")
	for _, want := range []string{
		"GAMELIFT_SDK_WEBSOCKET_URL=ws://sdk.test:9/",
		"GAMELIFT_SDK_AUTH_TOKEN=token-1",
		"GAMELIFT_SDK_PROCESS_ID=" + launched[0].ProcessID,
		"GAMELIFT_SDK_HOST_ID=host-1",
		"GAMELIFT_SDK_FLEET_ID=fleet-1",
		"args: sleep two words",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("process output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "MUSTER_") || strings.Contains(out, "=stale") {
		t.Errorf("the agent's own MUSTER_/GAMELIFT_ variables leaked into the process:\n%s", out)
	}
	if launched[0].ProcessID == launched[1].ProcessID {
		t.Fatal("two launches share a process id")
	}
	c.Advance(10 * time.Second)
	h.next(agent.EventHeartbeat)
	hb := control.lastHeartbeat()
	if len(hb.Processes) != 2 || hb.Draining {
		t.Fatalf("heartbeat reported %+v, want 2 processes and not draining", hb)
	}
	for _, p := range hb.Processes {
		if p.PID == 0 || p.LaunchPath != testBinary(t) || p.Parameters != `sleep "two words"` || !p.StartedAt.Equal(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)) {
			t.Errorf("bad process report %+v", p)
		}
	}
}

func TestSupervisorReplacesAProcessThatCrashes(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 1, "sleep"))
	h := start(t, control, c, nil)
	first := h.launched(1)[0]
	h.logOf(first.ProcessID, "ready")
	c.Advance(time.Minute) // a healthy run: no crash-loop backoff
	killPID(t, first.PID)
	exited := h.next(agent.EventExited)
	if exited.ProcessID != first.ProcessID {
		t.Fatalf("exit of %s, want %s", exited.ProcessID, first.ProcessID)
	}
	second := h.next(agent.EventLaunched)
	if second.ProcessID == first.ProcessID {
		t.Fatal("the replacement reused the crashed process's id")
	}
	// The control plane hears of the crash within a second, not an interval.
	c.Advance(time.Second)
	h.next(agent.EventHeartbeat)
	if ps := control.lastHeartbeat().Processes; len(ps) != 1 || ps[0].ProcessID != second.ProcessID {
		t.Fatalf("heartbeat after the crash reported %+v, want only %s", ps, second.ProcessID)
	}
	h.logOf(second.ProcessID, "ready")
}

func TestSupervisorBacksOffAProcessThatKeepsCrashing(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 1, "exit 3"))
	var logs testenv.Buffer
	h := start(t, control, c, func(cfg *agent.Config) { cfg.Log = slog.New(slog.NewTextHandler(&logs, nil)) })
	h.next(agent.EventLaunched)
	if e := h.next(agent.EventExited); !strings.Contains(e.Reason, "exit status 3") {
		t.Fatalf("exit reason %q", e.Reason)
	}
	h.next(agent.EventLaunched) // the first quick crash is retried at once
	h.next(agent.EventExited)
	// Launches happen before the loop reports the exit, so none is coming now.
	c.Advance(999 * time.Millisecond)
	select {
	case e := <-h.events:
		if e.Kind == agent.EventLaunched {
			t.Fatal("relaunched during the backoff")
		}
	default:
	}
	c.Advance(time.Millisecond)
	h.next(agent.EventLaunched)
	if out := logs.String(); !strings.Contains(out, "backing off relaunches") || !strings.Contains(out, "retry_in=1s") {
		t.Errorf("the backoff was not logged with its wait:\n%s", out)
	}
}

func TestSupervisorRelaunchesAtOnceAProcessThatEndsCleanlySoonAfterLaunch(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 1, "sleep"))
	h := start(t, control, c, nil)
	p := h.launched(1)[0]
	// Short matches: each process ends its game session, calls ProcessEnding
	// and exits 0 a few seconds after launch. None of that is a crash loop.
	for range 4 {
		h.logOf(p.ProcessID, "ready")
		c.Advance(2 * time.Second)
		if err := syscall.Kill(p.PID, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if e := h.next(agent.EventExited); e.ProcessID != p.ProcessID || e.Reason != "exit status 0" {
			t.Fatalf("exit %+v, want %s with exit status 0", e, p.ProcessID)
		}
		// The fake clock stands still, so a crash backoff would never end:
		// the relaunch comes only if the exit was not taken for a crash.
		p = h.next(agent.EventLaunched)
	}
}

func TestSupervisorStopsAProcessThatNeverCallsProcessReady(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 2, "sleep"))
	control.readyTO = 60
	h := start(t, control, c, nil)
	ps := h.launched(2)
	h.logOf(ps[0].ProcessID, "ready")
	h.logOf(ps[1].ProcessID, "ready")
	control.set(func(f *fakeControl) { f.statuses[ps[1].ProcessID] = agentwire.StatusActive })
	for range 5 { // 50 s: within the timeout
		c.Advance(10 * time.Second)
		h.next(agent.EventHeartbeat)
	}
	c.Advance(10 * time.Second)
	stopped := h.next(agent.EventStopping)
	if stopped.ProcessID != ps[0].ProcessID || !strings.Contains(stopped.Reason, "ProcessReady") {
		t.Fatalf("stopped %+v, want the pending process %s", stopped, ps[0].ProcessID)
	}
	// The replacement starts at once; the stopped process exits on SIGTERM.
	var exited, replacement agent.Event
	for exited.ProcessID == "" || replacement.ProcessID == "" {
		switch e := h.next(agent.EventExited, agent.EventLaunched); e.Kind {
		case agent.EventExited:
			exited = e
		default:
			replacement = e
		}
	}
	if exited.ProcessID != ps[0].ProcessID {
		t.Fatalf("exited %s, want %s", exited.ProcessID, ps[0].ProcessID)
	}
	h.logOf(ps[0].ProcessID, "got SIGTERM")
	if replacement.ProcessID == ps[0].ProcessID || replacement.ProcessID == ps[1].ProcessID {
		t.Fatal("replacement reused an id")
	}
}

func TestSupervisorFollowsRuntimeConfigurationChanges(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 3, "sleep a"))
	h := start(t, control, c, nil)
	ps := h.launched(3)
	for _, p := range ps {
		h.logOf(p.ProcessID, "ready")
	}
	control.set(func(f *fakeControl) {
		f.statuses[ps[0].ProcessID] = agentwire.StatusActive
		f.statuses[ps[1].ProcessID] = agentwire.StatusActive
		f.runtime.ServerProcesses = []gamelift.ServerProcess{childProcess(t, 1, "sleep a"), childProcess(t, 1, "sleep b")}
	})
	c.Advance(10 * time.Second)
	var stopped []string
	var launchedB agent.Event
	for len(stopped) < 2 || launchedB.ProcessID == "" {
		e := h.next(agent.EventStopping, agent.EventLaunched)
		if e.Kind == agent.EventStopping {
			stopped = append(stopped, e.ProcessID)
		} else {
			launchedB = e
		}
	}
	// The pending process goes first, then an active one.
	if stopped[0] != ps[2].ProcessID || (stopped[1] != ps[0].ProcessID && stopped[1] != ps[1].ProcessID) {
		t.Fatalf("stopped %v, want the pending %s first, then an active one", stopped, ps[2].ProcessID)
	}
	if out := h.logOf(launchedB.ProcessID, "ready"); !strings.Contains(out, "args: sleep b") {
		t.Fatalf("new process is not the new line:\n%s", out)
	}
	h.next(agent.EventExited)
	h.next(agent.EventExited)
	c.Advance(10 * time.Second)
	h.next(agent.EventHeartbeat)
	if n := len(control.lastHeartbeat().Processes); n != 2 {
		t.Fatalf("%d processes after the change, want 2", n)
	}
}

func TestSupervisorKillsAProcessThatIgnoresSIGTERM(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 1, "ignore-term"))
	h := start(t, control, c, func(cfg *agent.Config) { cfg.StopGrace = 20 * time.Second })
	p := h.launched(1)[0]
	h.logOf(p.ProcessID, "ready")
	control.set(func(f *fakeControl) { f.runtime.ServerProcesses = nil })
	c.Advance(10 * time.Second)
	h.next(agent.EventStopping)
	c.Advance(19 * time.Second)
	h.next(agent.EventHeartbeat)
	c.Advance(time.Second)
	if e := h.next(agent.EventKilled); e.ProcessID != p.ProcessID {
		t.Fatalf("killed %s", e.ProcessID)
	}
	if e := h.next(agent.EventExited); !strings.Contains(e.Reason, "killed") {
		t.Fatalf("exit reason %q, want killed", e.Reason)
	}
}

func TestSupervisorRefreshesTheAuthTokenBeforeItExpires(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 1, "sleep"))
	control.tokenTTL = 100 * time.Second
	h := start(t, control, c, nil)
	first := h.launched(1)[0]
	for range 7 {
		c.Advance(10 * time.Second)
		h.next(agent.EventHeartbeat)
	}
	if n := len(control.tokens); n != 1 {
		t.Fatalf("%d tokens fetched after 70 s, want 1", n)
	}
	c.Advance(5 * time.Second) // 75 s: three quarters of the lifetime
	if e := h.next(agent.EventToken); e.Reason != "" {
		t.Fatal(e.Reason)
	}
	// A process launched now gets the new token.
	killPID(t, first.PID)
	second := h.next(agent.EventLaunched)
	if out := h.logOf(second.ProcessID, "ready"); !strings.Contains(out, "GAMELIFT_SDK_AUTH_TOKEN=token-2") {
		t.Fatalf("the replacement did not get the refreshed token:\n%s", out)
	}
}

func TestSupervisorRegistersAgainWhenTheControlPlaneForgetsTheCompute(t *testing.T) {
	c := newClock()
	control := newFakeControl(c)
	h := start(t, control, c, nil)
	control.set(func(f *fakeControl) { f.unknown = true })
	c.Advance(10 * time.Second)
	h.next(agent.EventRegistered)
	h.next(agent.EventHeartbeat)
	control.set(func(f *fakeControl) {
		if f.registers != 2 || len(f.tokens) != 2 {
			t.Errorf("registers %d, tokens %d; want 2 and 2", f.registers, len(f.tokens))
		}
	})
}

// An agent whose fleet was deleted stops its processes and returns
// ErrFleetGone, rather than re-registering every RetryInterval for ever: it
// neither drains through the control plane nor deregisters, since neither
// the fleet nor the compute exists any more.
func TestSupervisorStopsWhenItsFleetIsDeleted(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 1, "sleep"))
	h := start(t, control, c, nil)
	h.launched(1)
	control.set(func(f *fakeControl) { f.fleetGone = true })
	c.Advance(10 * time.Second)
	h.next(agent.EventDraining)
	select {
	case err := <-h.done:
		h.done <- err // for the cleanup, which waits for Run too
		if !errors.Is(err, agent.ErrFleetGone) {
			t.Fatalf("Run = %v, want ErrFleetGone", err)
		}
	case <-time.After(20 * time.Second): // a safety net for a hung test: the process is real
		t.Fatal("the agent of a deleted fleet did not stop")
	}
	control.set(func(f *fakeControl) {
		if f.deregisters != 0 || f.registers != 1 {
			t.Errorf("deregisters %d, registers %d; want 0 and 1 (calls %q)", f.deregisters, f.registers, f.log)
		}
	})
}

func TestSupervisorFailsWhenRegistrationIsRefused(t *testing.T) {
	c := newClock()
	control := newFakeControl(c)
	control.refuse = &agent.APIError{Operation: "RegisterCompute", StatusCode: 400, Type: "NotFoundException", Message: "no fleet"}
	s, err := agent.New(agent.Config{FleetID: "fleet-x", ComputeName: "h", Control: control, Launcher: &agent.ExecLauncher{LogDir: t.TempDir()}, Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	var ae *agent.APIError
	if err := s.Run(t.Context()); !errors.As(err, &ae) || ae.Type != "NotFoundException" {
		t.Fatalf("Run = %v, want the NotFoundException", err)
	}
}

func TestSupervisorDrainsOnCancellation(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 2, "sleep"), childProcess(t, 1, "ignore-term"))
	h := start(t, control, c, func(cfg *agent.Config) { cfg.DrainGrace = 30 * time.Second })
	ps := h.launched(3)
	byPID := map[int]string{}
	for _, p := range ps {
		h.logOf(p.ProcessID, "ready")
		byPID[p.PID] = p.ProcessID
	}
	// Two processes are ACTIVE: one sleeper and the SIGTERM-ignoring one.
	var sleeperActive, stubborn, sleeperPending agent.Event
	for _, p := range ps {
		out := h.logOf(p.ProcessID, "args:")
		switch {
		case strings.Contains(out, "ignore-term"):
			stubborn = p
		case sleeperActive.ProcessID == "":
			sleeperActive = p
		default:
			sleeperPending = p
		}
	}
	terminated := make(chan string, 3)
	control.set(func(f *fakeControl) {
		f.statuses[sleeperActive.ProcessID] = agentwire.StatusActive
		f.statuses[stubborn.ProcessID] = agentwire.StatusActive
		// The control plane pushes TerminateProcess to ACTIVE processes; the
		// sleeper honours it (simulated with SIGTERM), the stubborn one does not.
		f.onDrain = func(in agentwire.Heartbeat) {
			if in.DrainGraceSeconds != 30 {
				t.Errorf("the drain heartbeat reports a grace of %d s, want the agent's 30", in.DrainGraceSeconds)
			}
			for _, r := range in.Processes {
				if r.ProcessID == sleeperActive.ProcessID {
					p, _ := os.FindProcess(r.PID)
					_ = p.Signal(syscall.SIGTERM)
					terminated <- r.ProcessID
				}
			}
		}
	})
	c.Advance(10 * time.Second)
	h.next(agent.EventHeartbeat)

	h.cancel()
	h.next(agent.EventDraining)
	if e := h.next(agent.EventStopping); e.ProcessID != sleeperPending.ProcessID {
		t.Fatalf("the agent itself stopped %s, want only the pending %s", e.ProcessID, sleeperPending.ProcessID)
	}
	exited := map[string]bool{}
	for len(exited) < 2 {
		exited[h.next(agent.EventExited).ProcessID] = true
	}
	if !exited[sleeperActive.ProcessID] || !exited[sleeperPending.ProcessID] {
		t.Fatalf("exited %v", exited)
	}
	if c := control.calls(); slices.Contains(c, "DeregisterCompute") {
		t.Fatal("deregistered while a process still runs")
	}
	c.Advance(30 * time.Second)
	if e := h.next(agent.EventKilled); e.ProcessID != stubborn.ProcessID {
		t.Fatalf("killed %s, want %s", e.ProcessID, stubborn.ProcessID)
	}
	h.next(agent.EventExited)
	if e := h.next(agent.EventDeregistered); e.Reason != "" {
		t.Fatal(e.Reason)
	}
	if err := <-h.done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	calls := control.calls()
	drainAt := slices.Index(calls, "Heartbeat(draining=true)")
	if drainAt < 0 || calls[len(calls)-1] != "DeregisterCompute" {
		t.Fatalf("calls %v: want a draining heartbeat, then DeregisterCompute last", calls)
	}
	h.done <- nil // for the cleanup
}

func TestSupervisorRotatesProcessLogs(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 1, "spam 50000"))
	h := start(t, control, c, func(cfg *agent.Config) {
		cfg.Launcher = &agent.ExecLauncher{LogDir: t.TempDir(), WorkDir: t.TempDir(), LogMaxBytes: 10_000, LogKeep: 2}
	})
	logDir := h.logDir
	p := h.launched(1)[0]
	h.logOf(p.ProcessID, "ready")
	for _, suffix := range []string{"", ".1", ".2"} {
		st, err := os.Stat(logDir + "/" + p.ProcessID + ".log" + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 10_000 {
			t.Errorf("%s%s has %d bytes, over the 10,000 cap", p.ProcessID, suffix, st.Size())
		}
	}
	if _, err := os.Stat(logDir + "/" + p.ProcessID + ".log.3"); !os.IsNotExist(err) {
		t.Errorf("a third old log exists (%v); keep is 2", err)
	}
}

func TestSupervisorLeavesAProcessWithAGameSessionRunningWhenTheConfigurationShrinks(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 2, "sleep"))
	h := start(t, control, c, nil)
	ps := h.launched(2)
	// The newer process hosts a game session; the older one is idle.
	busy, idle := ps[1], ps[0]
	control.set(func(f *fakeControl) {
		f.statuses[busy.ProcessID], f.statuses[idle.ProcessID] = agentwire.StatusActive, agentwire.StatusActive
		f.sessions[busy.ProcessID] = "arn:aws:gamelift:mu-local-1::gamesession/fleet-1/gsess-1"
		f.runtime.ServerProcesses[0].ConcurrentExecutions = new(int32(1))
	})
	c.Advance(10 * time.Second)
	if e := h.next(agent.EventStopping); e.ProcessID != idle.ProcessID {
		t.Fatalf("stopped %s, want the idle %s", e.ProcessID, idle.ProcessID)
	}
	h.next(agent.EventExited)
	// With only the busy process left over a shrunk configuration of 0, it still runs.
	control.set(func(f *fakeControl) { f.runtime.ServerProcesses[0].ConcurrentExecutions = new(int32(0)) })
	c.Advance(time.Second) // the prompt heartbeat after the exit
	h.next(agent.EventHeartbeat)
	c.Advance(10 * time.Second)
	for e := h.next(agent.EventHeartbeat, agent.EventStopping); e.Kind != agent.EventHeartbeat; e = h.next(agent.EventHeartbeat, agent.EventStopping) {
		t.Fatalf("stopped %s, which hosts a game session", e.ProcessID)
	}
	if ps := control.lastHeartbeat().Processes; len(ps) != 1 || ps[0].ProcessID != busy.ProcessID {
		t.Fatalf("heartbeat reported %+v, want the busy process still running", ps)
	}
}

func TestSupervisorDeletesTheLogsOfOldExitedProcesses(t *testing.T) {
	c := newClock()
	control := newFakeControl(c, childProcess(t, 1, "exit 3"))
	h := start(t, control, c, func(cfg *agent.Config) {
		cfg.Launcher = &agent.ExecLauncher{LogDir: t.TempDir(), WorkDir: t.TempDir(), KeepExited: 1}
	})
	logDir := h.logDir
	first := h.next(agent.EventExited)
	if _, err := os.Stat(logDir + "/" + first.ProcessID + ".log"); err != nil {
		t.Fatalf("the log of the only exited process is gone: %v", err)
	}
	second := h.next(agent.EventExited)
	if _, err := os.Stat(logDir + "/" + first.ProcessID + ".log"); !os.IsNotExist(err) {
		t.Fatalf("the oldest exited process's log is still there (%v); keep is 1", err)
	}
	if _, err := os.Stat(logDir + "/" + second.ProcessID + ".log"); err != nil {
		t.Fatalf("the newest exited process's log is gone: %v", err)
	}
}

// TestSupervisorRetriesAFailedHeartbeatSoon: the control plane takes a
// compute for lost after three intervals without a heartbeat, so a failed
// one is tried again after a fifth of the interval, not a whole one.
func TestSupervisorRetriesAFailedHeartbeatSoon(t *testing.T) {
	c := newClock()
	control := newFakeControl(c)
	h := start(t, control, c, nil)
	var answered int
	control.set(func(f *fakeControl) { f.failing, answered = 1, len(f.heartbeats) })
	c.Advance(10 * time.Second)
	h.next(agent.EventHeartbeat) // the failed one
	c.Advance(2 * time.Second)
	h.next(agent.EventHeartbeat)
	control.set(func(f *fakeControl) {
		if n := len(f.heartbeats) - answered; n != 1 {
			t.Errorf("%d heartbeats answered 2 s after a failed one, want 1 (the retry)", n)
		}
	})
}
