package agent_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent"
	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
)

// childEnv makes the test binary act as a server process (see TestMain).
const childEnv = "AGENT_TEST_CHILD"

// raceExitNow is given to the server processes the tests launch. Under
// -race they are race-instrumented copies of the test binary, and such a
// binary sleeps for GORACE's atexit_sleep_ms (one second by default)
// before it exits, so a test that launches and ends processes one after
// another spent that second on each of them.
const raceExitNow = "GORACE=atexit_sleep_ms=0"

// TestMain lets the test binary double as a tiny server process: launched
// with AGENT_TEST_CHILD=1, it runs the behaviour named by its arguments.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(child(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// child behaviours:
//
//	sleep        print the GAMELIFT_/MUSTER_ environment, then wait for SIGTERM
//	ignore-term  like sleep, but ignore SIGTERM
//	exit N       exit at once with status N
//	spam N       write N bytes of output in 100-byte lines, then wait for SIGTERM
func child(args []string) int {
	if len(args) == 0 {
		return 2
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	switch args[0] {
	case "exit":
		n, _ := strconv.Atoi(args[1])
		return n
	case "spam":
		n, _ := strconv.Atoi(args[1])
		line := strings.Repeat("x", 99) + "\n"
		for written := 0; written < n; written += len(line) {
			fmt.Fprint(os.Stdout, line)
		}
	case "sleep", "ignore-term":
		for _, kv := range os.Environ() {
			if strings.HasPrefix(kv, "GAMELIFT_") || strings.HasPrefix(kv, "MUSTER_") {
				fmt.Println(kv)
			}
		}
		fmt.Println("args:", strings.Join(args, " "))
	}
	fmt.Println("ready")
	for range term {
		if args[0] != "ignore-term" {
			fmt.Println("got SIGTERM")
			return 0
		}
	}
	return 0
}

// fakeControl is an in-memory control plane.
type fakeControl struct {
	clock *clock.Fake

	mu          sync.Mutex
	runtime     gamelift.RuntimeConfiguration
	statuses    map[string]string
	sessions    map[string]string // processId → gameSessionId
	readyTO     int
	tokenTTL    time.Duration
	tokens      []string
	registers   int
	deregisters int
	heartbeats  []agentwire.Heartbeat
	unknown     bool  // the next heartbeat answers 404
	fleetGone   bool  // the fleet was deleted: heartbeats answer 404, RegisterCompute NotFoundException
	failing     int   // this many next heartbeats answer 500
	conflict    bool  // heartbeats answer 409: another agent runs the compute
	refuse      error // RegisterCompute fails with this
	onDrain     func(agentwire.Heartbeat)
	ended       *agentwire.ProcessStatus // how every exited process ended, if the control plane says
	log         []string                 // calls in order
}

func newFakeControl(c *clock.Fake, procs ...gamelift.ServerProcess) *fakeControl {
	return &fakeControl{clock: c, runtime: gamelift.RuntimeConfiguration{ServerProcesses: procs}, statuses: map[string]string{}, sessions: map[string]string{}, readyTO: 300, tokenTTL: time.Hour}
}

func (f *fakeControl) RegisterCompute(_ context.Context, in gamelift.RegisterComputeInput) (*gamelift.Compute, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, "RegisterCompute")
	if f.refuse != nil {
		return nil, f.refuse
	}
	if f.fleetGone {
		return nil, &agent.APIError{Operation: "RegisterCompute", StatusCode: 400, Type: "NotFoundException", Message: "FleetId: fleet fleet-1 not found"}
	}
	f.registers++
	return &gamelift.Compute{FleetId: in.FleetId, ComputeName: in.ComputeName, ComputeStatus: "ACTIVE", GameLiftServiceSdkEndpoint: "ws://sdk.test:9/"}, nil
}

func (f *fakeControl) GetComputeAuthToken(context.Context, string, string) (*agent.AuthToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, "GetComputeAuthToken")
	tok := fmt.Sprintf("token-%d", len(f.tokens)+1)
	f.tokens = append(f.tokens, tok)
	return &agent.AuthToken{Token: tok, ExpiresAt: f.clock.Now().Add(f.tokenTTL)}, nil
}

func (f *fakeControl) Heartbeat(_ context.Context, _, _ string, in agentwire.Heartbeat) (*agentwire.Reply, error) {
	f.mu.Lock()
	f.log = append(f.log, fmt.Sprintf("Heartbeat(draining=%v)", in.Draining))
	if f.unknown || f.fleetGone {
		f.unknown = false
		f.mu.Unlock()
		return nil, &agent.APIError{Operation: "Heartbeat", StatusCode: 404, Type: "Not Found"}
	}
	if f.failing > 0 {
		f.failing--
		f.mu.Unlock()
		return nil, &agent.APIError{Operation: "Heartbeat", StatusCode: 500, Type: "Internal"}
	}
	if f.conflict {
		f.mu.Unlock()
		return nil, &agent.APIError{Operation: "Heartbeat", StatusCode: 409, Type: "Conflict", Message: "compute host-1 of fleet fleet-1 is run by another agent"}
	}
	f.heartbeats = append(f.heartbeats, in)
	resp := &agentwire.Reply{ComputeStatus: "ACTIVE", HeartbeatIntervalSeconds: 10, ProcessReadyTimeoutSeconds: f.readyTO, RuntimeConfiguration: f.runtime}
	if in.Draining {
		resp.ComputeStatus = "TERMINATING"
	}
	for _, p := range in.Processes {
		if st := f.statuses[p.ProcessID]; st != "" {
			resp.Processes = append(resp.Processes, agentwire.ProcessStatus{ProcessID: p.ProcessID, Status: st, GameSessionID: f.sessions[p.ProcessID]})
		}
	}
	for _, id := range in.Exited {
		if f.ended != nil {
			st := *f.ended
			st.ProcessID = id
			resp.Processes = append(resp.Processes, st)
		}
	}
	onDrain := f.onDrain
	f.mu.Unlock()
	if in.Draining && onDrain != nil {
		onDrain(in)
	}
	return resp, nil
}

func (f *fakeControl) DeregisterCompute(context.Context, string, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, "DeregisterCompute")
	f.deregisters++
	return nil
}

func (f *fakeControl) set(fn func(f *fakeControl)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeControl) lastHeartbeat() agentwire.Heartbeat {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.heartbeats[len(f.heartbeats)-1]
}

func (f *fakeControl) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

// harness runs a Supervisor on a fake clock.
type harness struct {
	t       *testing.T
	clock   *clock.Fake
	control *fakeControl
	events  chan agent.Event
	backlog []agent.Event // events seen while waiting for the first heartbeat
	logDir  string
	cancel  context.CancelFunc
	done    chan error
}

// testBinary is the path of the running test binary, launched as the server.
func testBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// childProcess is a runtime-configuration line that runs the test binary as
// a child with the given behaviour.
func childProcess(t *testing.T, n int32, behaviour string) gamelift.ServerProcess {
	return gamelift.ServerProcess{LaunchPath: testBinary(t), Parameters: behaviour, ConcurrentExecutions: &n}
}

func start(t *testing.T, control *fakeControl, fakeClock *clock.Fake, mutate func(*agent.Config)) *harness {
	t.Helper()
	h := &harness{t: t, clock: fakeClock, control: control, events: make(chan agent.Event, 10000), logDir: t.TempDir(), done: make(chan error, 1)}
	cfg := agent.Config{
		FleetID: "fleet-1", ComputeName: "host-1", Location: "custom-home",
		Control:  control,
		Launcher: &agent.ExecLauncher{LogDir: h.logDir, WorkDir: t.TempDir(), LogMaxBytes: 1 << 20, LogKeep: 2},
		Clock:    fakeClock,
		Log:      slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		BaseEnv:  []string{childEnv + "=1", "PATH=" + os.Getenv("PATH"), raceExitNow, "MUSTER_SECRET_ACCESS_KEY=do-not-leak", "GAMELIFT_SDK_PROCESS_ID=stale"},
		OnEvent:  func(e agent.Event) { h.events <- e },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	if l, ok := cfg.Launcher.(*agent.ExecLauncher); ok {
		h.logDir = l.LogDir // a test's own launcher keeps the logs h reads
	}
	s, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- s.Run(ctx) }()
	// Tests start once the first heartbeat has been answered (and the
	// launches it caused are done), so they count later heartbeats only.
	for {
		e := h.nextRaw()
		if e.Kind == agent.EventHeartbeat {
			break
		}
		h.backlog = append(h.backlog, e)
	}
	t.Cleanup(func() {
		cancel()
		// A drain on the fake clock needs time to pass: keep advancing until Run returns.
		for {
			select {
			case <-h.done:
				return
			case <-h.events:
			case <-time.After(10 * time.Millisecond):
				fakeClock.Advance(time.Minute)
			}
		}
	})
	return h
}

// next returns the next event of one of the kinds, skipping others. It
// fails the test after a real-time deadline: the processes are real.
func (h *harness) next(kinds ...agent.EventKind) agent.Event {
	h.t.Helper()
	for len(h.backlog) > 0 {
		e := h.backlog[0]
		h.backlog = h.backlog[1:]
		if slices.Contains(kinds, e.Kind) {
			return e
		}
	}
	for {
		if e := h.nextRaw(); slices.Contains(kinds, e.Kind) {
			return e
		}
	}
}

func (h *harness) nextRaw() agent.Event {
	h.t.Helper()
	select {
	case e := <-h.events:
		return e
	case <-time.After(20 * time.Second):
		h.t.Fatal("no event within 20 s")
	}
	panic("unreachable")
}

// launched waits for n launches and returns them.
func (h *harness) launched(n int) []agent.Event {
	h.t.Helper()
	var out []agent.Event
	for range n {
		out = append(out, h.next(agent.EventLaunched))
	}
	return out
}

// logOf reads a process's log file once it contains want.
func (h *harness) logOf(processID, want string) string {
	h.t.Helper()
	path := h.logDir + "/" + processID + ".log"
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), want) {
			return string(b)
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("log %s never contained %q; it has:\n%s", path, want, b)
		}
		time.Sleep(20 * time.Millisecond) // polling a real file written by a real process
	}
}
