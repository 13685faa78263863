package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/server"
	"github.com/musterhq/muster/internal/testenv"
)

const (
	adminKey    = "AKIAMUSTERTESTADMIN1"
	adminSecret = "muster-test-admin-secret-0123456789abcdef"
)

// freeAddrs returns two distinct free loopback addresses: the control
// plane's and the SDK endpoint's. Both listeners are held until both ports
// are known, or the kernel may hand out the same port twice and the SDK
// endpoint would fail to listen.
func freeAddrs(t testing.TB) (string, string) {
	t.Helper()
	var addrs [2]string
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		addrs[i] = ln.Addr().String()
	}
	return addrs[0], addrs[1]
}

// env is a running control plane (in process, fake clock) with one Anywhere
// fleet in one custom location and one registered compute.
type env struct {
	t        testing.TB
	cfg      server.Config
	srv      *server.Server
	cancel   context.CancelFunc
	done     chan error
	addr     string
	sdkAddr  string
	gl       *gl.Client
	fleetID  string
	location string
	compute  string
	token    string
	pid      int // of the muster binary, when the control plane runs as one
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, location: "custom-test", compute: "host-1"}
	e.addr, e.sdkAddr = freeAddrs(t)
	e.cfg = server.Config{Listen: e.addr, DataDir: dir, SDKListen: e.sdkAddr, FakeClock: true,
		AdminAccessKeyID: adminKey, AdminSecretAccessKey: adminSecret, ShutdownTimeout: 5 * time.Second}
	e.start()
	t.Cleanup(e.stop)
	e.gl = gl.NewFromConfig(aws.Config{Region: "mu-local-1", Credentials: credentials.NewStaticCredentialsProvider(adminKey, adminSecret, ""), RetryMaxAttempts: 1},
		func(o *gl.Options) { o.BaseEndpoint = aws.String("http://" + e.addr) })
	e.setupFleet()
	return e
}

func (e *env) start() {
	e.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("MUSTER_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := server.New(context.Background(), e.cfg, log)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.srv, e.cancel, e.done = srv, cancel, make(chan error, 1)
	go func() { e.done <- srv.Run(ctx) }()
	e.waitFor("the control plane to listen", func() bool {
		c, err := net.Dial("tcp", e.addr)
		if err == nil {
			c.Close()
		}
		c2, err2 := net.Dial("tcp", e.sdkAddr)
		if err2 == nil {
			c2.Close()
		}
		return err == nil && err2 == nil
	})
}

func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	<-e.done
	e.cancel = nil
}

// restart stops the control plane and starts it again on the same ports
// and data directory.
func (e *env) restart() {
	e.stop()
	e.start()
}

func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// advance moves the control plane's fake clock.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	if code := e.admin("/v1/admin/clock/advance", map[string]float64{"seconds": d.Seconds()}, nil); code != 200 {
		e.t.Fatalf("advance clock: %d", code)
	}
}

// admin posts JSON to an admin endpoint and decodes the answer.
func (e *env) admin(path string, in, out any) int {
	e.t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest("POST", "http://"+e.addr+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+adminKey+":"+adminSecret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func (e *env) setupFleet() {
	e.t.Helper()
	fleet := testenv.CreateSDKFleet(e.t, e.gl, testenv.SDKFleet{Name: "test-fleet", Location: e.location, Compute: e.compute, Processes: 4, ActivationTimeout: 30})
	e.fleetID, e.token = fleet.FleetID, fleet.AuthToken
}

// startGameServer launches the test game server with the SDK environment
// an agent would give it. url "" means ws://<sdk address>.
func (e *env) startGameServer(url string, extra ...string) *testenv.SDKGameServer {
	e.t.Helper()
	if url == "" {
		url = "ws://" + e.sdkAddr
	}
	return testenv.StartSDKGameServer(e.t, testenv.SDKGameServerConfig{URL: url, AuthToken: e.token, HostID: e.compute, FleetID: e.fleetID,
		Env: append([]string{"HEALTHCHECK_INTERVAL=1s", "HEALTHCHECK_MAX_JITTER=100ms"}, extra...)})
}

// startReady starts a game server and waits until it is ProcessReady.
func (e *env) startReady(url string, extra ...string) *testenv.SDKGameServer {
	e.t.Helper()
	g := e.startGameServer(url, extra...)
	if r := g.Wait("event", "ready"); r["err"] != "" {
		e.t.Fatalf("ProcessReady: %v", r["err"])
	}
	return g
}

// startReadyServers starts n game servers and waits until each is
// ProcessReady; it returns them by process id.
func (e *env) startReadyServers(n int) map[string]*testenv.SDKGameServer {
	e.t.Helper()
	servers := map[string]*testenv.SDKGameServer{}
	for range n {
		g := e.startReady("")
		servers[g.ID] = g
	}
	return servers
}

// heartbeat posts hb as the agent of compute would, and returns the status
// code and the answer.
func (e *env) heartbeat(compute string, hb agentwire.Heartbeat) (int, agentwire.Reply) {
	e.t.Helper()
	var reply agentwire.Reply
	code := e.admin("/v1/admin/fleets/"+e.fleetID+"/computes/"+compute+"/heartbeat", hb, &reply)
	return code, reply
}

func (e *env) createGameSession(name string, max int32, props ...types.GameProperty) *types.GameSession {
	e.t.Helper()
	out, err := e.gl.CreateGameSession(context.Background(), &gl.CreateGameSessionInput{FleetId: aws.String(e.fleetID), Location: aws.String(e.location),
		Name: aws.String(name), MaximumPlayerSessionCount: aws.Int32(max), GameProperties: props})
	if err != nil {
		e.t.Fatalf("CreateGameSession: %v", err)
	}
	return out.GameSession
}

func (e *env) gameSession(id string) types.GameSession {
	e.t.Helper()
	out, err := e.gl.DescribeGameSessions(context.Background(), &gl.DescribeGameSessionsInput{GameSessionId: aws.String(id)})
	return only(e.t, "DescribeGameSessions", id, err, func() []types.GameSession { return out.GameSessions })
}

func (e *env) playerSession(id string) types.PlayerSession {
	e.t.Helper()
	out, err := e.gl.DescribePlayerSessions(context.Background(), &gl.DescribePlayerSessionsInput{PlayerSessionId: aws.String(id)})
	return only(e.t, "DescribePlayerSessions", id, err, func() []types.PlayerSession { return out.PlayerSessions })
}

// only is the one item a Describe call by id answered; t fails on an error
// or on any other number of items.
func only[T any](t testing.TB, call, id string, err error, items func() []T) T {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if got := items(); len(got) == 1 {
		return got[0]
	}
	t.Fatalf("%s(%s): %d items, want 1", call, id, len(items()))
	var none T
	return none
}
