package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

// AgentConfig says how StartAgent runs `muster agent`.
type AgentConfig struct {
	FleetID     string
	Location    string
	ComputeName string
	// Endpoint is the control plane the agent talks to; the server's URL
	// when empty (a test may put a proxy in between).
	Endpoint string
	// LogDir holds the server processes' logs; a fresh folder when empty.
	// The agent's work folder is its sibling "work".
	LogDir string
	// DrainGrace is --drain-grace; 5s when empty.
	DrainGrace string
}

// Agent is a running `muster agent`.
type Agent struct {
	Cmd    *exec.Cmd
	Out    *Buffer // what the agent logged
	LogDir string
	done   chan struct{}
	err    error
}

// StartAgent runs `muster agent` with the admin key, as an operator would.
// At the end of the test the agent and every process it launched are
// killed.
func StartAgent(t testing.TB, s *Server, cfg AgentConfig) *Agent {
	t.Helper()
	if cfg.Endpoint == "" {
		cfg.Endpoint = s.URL()
	}
	if cfg.LogDir == "" {
		cfg.LogDir = filepath.Join(t.TempDir(), "logs")
	}
	if cfg.DrainGrace == "" {
		cfg.DrainGrace = "5s"
	}
	a := &Agent{Out: &Buffer{}, LogDir: cfg.LogDir, done: make(chan struct{})}
	a.Cmd = exec.Command(Binary(t), "agent", "--endpoint", cfg.Endpoint, "--fleet", cfg.FleetID, "--location", cfg.Location,
		"--compute-name", cfg.ComputeName, "--ip-address", "127.0.0.1", "--beacon-listen", "127.0.0.1:0",
		"--log-dir", cfg.LogDir, "--work-dir", filepath.Join(filepath.Dir(cfg.LogDir), "work"), "--drain-grace", cfg.DrainGrace)
	a.Cmd.Env = append(os.Environ(), "MUSTER_ACCESS_KEY_ID="+AdminKeyID, "MUSTER_SECRET_ACCESS_KEY="+AdminSecret)
	a.Cmd.Stdout, a.Cmd.Stderr = a.Out, a.Out
	if err := a.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.err = a.Cmd.Wait(); close(a.done) }()
	t.Cleanup(func() {
		a.Cmd.Process.Kill()
		<-a.done
		for _, pid := range a.Launched() {
			if p, err := os.FindProcess(pid); err == nil {
				p.Kill()
			}
		}
		if t.Failed() {
			t.Logf("agent %s log (last 64 KiB):\n%s", cfg.ComputeName, tail(a.Out.String(), 64<<10))
		}
	})
	return a
}

// Exit waits up to timeout for the agent to exit and returns how it ended;
// it fails the test if the agent is still running then.
func (a *Agent) Exit(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-a.done:
		return a.err
	case <-time.After(timeout):
		t.Fatalf("the agent did not exit within %v", timeout)
		return nil
	}
}

var launchedLine = regexp.MustCompile(`msg="server process launched".* process_id=(\S+) pid=(\d+)`)

// Launched returns the pid of every server process the agent logged as
// launched so far, by process id.
func (a *Agent) Launched() map[string]int {
	out := map[string]int{}
	for _, m := range launchedLine.FindAllStringSubmatch(a.Out.String(), -1) {
		pid, _ := strconv.Atoi(m[2])
		out[m[1]] = pid
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// ArenaFleet describes an Anywhere fleet that runs examples/arena.
type ArenaFleet struct {
	Name       string
	Locations  []string // custom locations, created when missing
	Processes  int32    // concurrent arena processes per compute
	Parameters string   // the arena's command line, if any
	Cost       string   // the Anywhere cost, if any
}

// CreateArenaFleet creates the fleet's locations and the fleet, and returns
// the fleet id.
func (s *Server) CreateArenaFleet(t testing.TB, f ArenaFleet) string {
	t.Helper()
	ctx := context.Background()
	gl := s.Admin()
	proc := types.ServerProcess{LaunchPath: aws.String(Arena(t)), ConcurrentExecutions: aws.Int32(f.Processes)}
	if f.Parameters != "" {
		proc.Parameters = aws.String(f.Parameters)
	}
	in := &gamelift.CreateFleetInput{Name: aws.String(f.Name), ComputeType: types.ComputeTypeAnywhere,
		RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{proc}}}
	if f.Cost != "" {
		in.AnywhereConfiguration = &types.AnywhereConfiguration{Cost: aws.String(f.Cost)}
	}
	for _, l := range f.Locations {
		_, err := gl.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String(l)})
		var conflict *types.ConflictException
		if err != nil && !errors.As(err, &conflict) {
			t.Fatalf("CreateLocation %s: %v", l, err)
		}
		in.Locations = append(in.Locations, types.LocationConfiguration{Location: aws.String(l)})
	}
	out, err := gl.CreateFleet(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.FleetAttributes.FleetId)
}

// StartArenaFleet creates the fleet, runs an agent in each of its
// locations on a compute named <location>-host, and waits until every
// arena process is ACTIVE. It returns the fleet id and the agents, in the
// order of f.Locations.
func (s *Server) StartArenaFleet(t testing.TB, f ArenaFleet) (string, []*Agent) {
	t.Helper()
	fleetID := s.CreateArenaFleet(t, f)
	var agents []*Agent
	for _, l := range f.Locations {
		agents = append(agents, StartAgent(t, s, AgentConfig{FleetID: fleetID, Location: l, ComputeName: l + "-host"}))
	}
	want := f.Processes * int32(len(f.Locations))
	Eventually(t, fmt.Sprintf("%d ACTIVE arena processes", want), 2*time.Minute, func() bool {
		return s.ActiveProcesses(context.Background(), fleetID) == want
	})
	return fleetID, agents
}

// ActiveProcesses is the fleet's ActiveServerProcessCount, or -1 when the
// control plane does not answer.
func (s *Server) ActiveProcesses(ctx context.Context, fleetID string) int32 {
	out, err := s.Admin().DescribeFleetUtilization(ctx, &gamelift.DescribeFleetUtilizationInput{FleetIds: []string{fleetID}})
	if err != nil || len(out.FleetUtilization) != 1 {
		return -1
	}
	return aws.ToInt32(out.FleetUtilization[0].ActiveServerProcessCount)
}

// ReadOnlyKey creates an operator key with the read-only role and returns
// its id and secret.
func (s *Server) ReadOnlyKey(t testing.TB) (string, string) {
	t.Helper()
	res, body, err := s.Bearer(context.Background(), http.MethodPost, "/v1/admin/keys", `{"role":"read-only","description":"e2e"}`)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("create read-only key: %v %v %s", err, res, body)
	}
	var key struct{ AccessKeyID, SecretAccessKey string }
	if err := json.Unmarshal(body, &key); err != nil {
		t.Fatal(err)
	}
	return key.AccessKeyID, key.SecretAccessKey
}

// Eventually polls real state (processes, sockets, the control plane) until
// cond holds, and fails the test once timeout has passed. Real processes
// run on real time, so this is the one place end-to-end tests wait on it.
func Eventually(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
