package testenv

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/google/uuid"
)

// sdkGameServerWait is how long SDKGameServer.Wait waits for a line.
const sdkGameServerWait = 60 * time.Second

// SDKGameServerConfig is the environment an agent gives a game server
// process: where the SDK endpoint is and which compute and fleet the
// process belongs to.
type SDKGameServerConfig struct {
	URL       string // GAMELIFT_SDK_WEBSOCKET_URL, ws:// or wss://
	AuthToken string // the compute's auth token
	HostID    string // the compute's name
	FleetID   string
	// Env adds KEY=VALUE variables: the game server's own (GS_PORT,
	// GS_NO_ACTIVATE=1 …) or the SDK's (HEALTHCHECK_INTERVAL …).
	Env []string
}

// SDKFleet is an Anywhere fleet in one custom location with one compute
// registered on 127.0.0.1, for game servers that the test starts itself
// (StartSDKGameServer) where an agent would.
type SDKFleet struct {
	Name, Location, Compute string
	// Processes is the runtime configuration's concurrent executions.
	Processes int32
	// ActivationTimeout is GameSessionActivationTimeoutSeconds.
	ActivationTimeout int32
}

// CreateSDKFleet creates f's location, the fleet and its compute through
// gl, and returns the environment of the compute's game servers, whose URL
// is the caller's to set.
func CreateSDKFleet(t testing.TB, gl *gamelift.Client, f SDKFleet) SDKGameServerConfig {
	t.Helper()
	ctx := context.Background()
	if _, err := gl.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String(f.Location)}); err != nil {
		t.Fatal(err)
	}
	fl, err := gl.CreateFleet(ctx, &gamelift.CreateFleetInput{Name: aws.String(f.Name), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String(f.Location)}},
		RuntimeConfiguration: &types.RuntimeConfiguration{GameSessionActivationTimeoutSeconds: aws.Int32(f.ActivationTimeout),
			ServerProcesses: []types.ServerProcess{{LaunchPath: aws.String("/opt/game/server"), ConcurrentExecutions: aws.Int32(f.Processes)}}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := SDKGameServerConfig{FleetID: aws.ToString(fl.FleetAttributes.FleetId), HostID: f.Compute}
	if _, err := gl.RegisterCompute(ctx, &gamelift.RegisterComputeInput{FleetId: aws.String(cfg.FleetID), ComputeName: aws.String(f.Compute),
		Location: aws.String(f.Location), IpAddress: aws.String("127.0.0.1")}); err != nil {
		t.Fatal(err)
	}
	tok, err := gl.GetComputeAuthToken(ctx, &gamelift.GetComputeAuthTokenInput{FleetId: aws.String(cfg.FleetID), ComputeName: aws.String(f.Compute)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.AuthToken = aws.ToString(tok.AuthToken)
	return cfg
}

// SDKGameServer is a running test game server on the official Go server
// SDK (internal/api/sdk/testdata/gameserver): its SDK callbacks and the
// answers to its SDK calls come out as JSON lines, which Wait and Take
// consume, and SDK calls go in as JSON lines (Call).
type SDKGameServer struct {
	ID string // its GAMELIFT_SDK_PROCESS_ID

	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.Writer
	mu     sync.Mutex
	cond   *sync.Cond // signalled on a new line and on exit
	lines  []map[string]any
	exited chan struct{}
}

// StartSDKGameServer launches the test game server with cfg's environment
// and a new process id. At the end of the test it is killed.
func StartSDKGameServer(t testing.TB, cfg SDKGameServerConfig) *SDKGameServer {
	t.Helper()
	bin := mustBuild(t, "./internal/api/sdk/testdata/gameserver", false)
	g := &SDKGameServer{ID: uuid.NewString(), t: t, exited: make(chan struct{})}
	g.cond = sync.NewCond(&g.mu)
	g.cmd = exec.Command(bin)
	g.cmd.Dir = t.TempDir()
	g.cmd.Env = append(os.Environ(), "GAMELIFT_SDK_WEBSOCKET_URL="+cfg.URL, "GAMELIFT_SDK_AUTH_TOKEN="+cfg.AuthToken,
		"GAMELIFT_SDK_PROCESS_ID="+g.ID, "GAMELIFT_SDK_HOST_ID="+cfg.HostID, "GAMELIFT_SDK_FLEET_ID="+cfg.FleetID, "SERVICE_CALL_TIMEOUT=5s")
	g.cmd.Env = append(g.cmd.Env, cfg.Env...)
	g.cmd.Stderr = os.Stderr
	g.stdin, _ = g.cmd.StdinPipe()
	stdout, _ := g.cmd.StdoutPipe()
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go g.read(stdout)
	t.Cleanup(func() {
		g.cmd.Process.Kill()
		<-g.exited
	})
	return g
}

// read collects the game server's JSON lines until it exits.
func (g *SDKGameServer) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			g.mu.Lock()
			g.lines = append(g.lines, m)
			g.cond.Broadcast()
			g.mu.Unlock()
		}
	}
	g.cmd.Wait()
	close(g.exited)
	g.mu.Lock()
	g.cond.Broadcast()
	g.mu.Unlock()
}

// PID is the game server's process id, as its agent reports it.
func (g *SDKGameServer) PID() int { return g.cmd.Process.Pid }

// Take removes and returns the first line with key=value, nil when there
// is none yet.
func (g *SDKGameServer) Take(key, value string) map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.take(key, value)
}

func (g *SDKGameServer) take(key, value string) map[string]any {
	for i, m := range g.lines {
		if m[key] == value {
			g.lines = append(g.lines[:i], g.lines[i+1:]...)
			return m
		}
	}
	return nil
}

// Peek returns the first line with key=value without removing it, nil when
// there is none.
func (g *SDKGameServer) Peek(key, value string) map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range g.lines {
		if m[key] == value {
			return m
		}
	}
	return nil
}

// Wait removes and returns the first line with key=value, waiting for it
// up to a minute; the test fails if the game server exits first.
func (g *SDKGameServer) Wait(key, value string) map[string]any {
	g.t.Helper()
	timedOut := false
	timer := time.AfterFunc(sdkGameServerWait, func() {
		g.mu.Lock()
		timedOut = true
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	defer timer.Stop()
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		if m := g.take(key, value); m != nil {
			return m
		}
		select {
		case <-g.exited:
			g.t.Fatalf("game server %s exited while waiting for %s=%s", g.ID, key, value)
		default:
		}
		if timedOut {
			g.t.Fatalf("game server %s: timed out after %v waiting for %s=%s", g.ID, sdkGameServerWait, key, value)
		}
		g.cond.Wait()
	}
}

// Call runs the SDK call op in the game server with args (the command's
// other members, nil for none) and returns its answer: "err" holds the
// call's error text, "" when it succeeded, and "result" what it returned.
func (g *SDKGameServer) Call(op string, args map[string]any) map[string]any {
	g.t.Helper()
	if args == nil {
		args = map[string]any{}
	}
	args["op"] = op
	b, _ := json.Marshal(args)
	if _, err := g.stdin.Write(append(b, '\n')); err != nil {
		g.t.Fatal(err)
	}
	return g.Wait("op", op)
}

// CallErr runs the SDK call op on id and returns its error text, "" when
// it succeeded.
func (g *SDKGameServer) CallErr(op, id string) string {
	g.t.Helper()
	s, _ := g.Call(op, map[string]any{"id": id})["err"].(string)
	return s
}
