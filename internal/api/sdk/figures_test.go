package sdk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/testenv"
)

// The SDK endpoint's figures, measured when MUSTER_FIGURES=1 (they take a
// minute and load the machine):
//
//	MUSTER_FIGURES=1 go test ./internal/api/sdk -run Figures -v
func figures(t *testing.T) {
	if os.Getenv("MUSTER_FIGURES") == "" {
		t.Skip("set MUSTER_FIGURES=1 to measure")
	}
}

// simProcess is a minimal SDK client: it activates every game session it
// is given at once, like a game whose OnStartGameSession does nothing.
type simProcess struct {
	id        string
	c         *websocket.Conn
	mu        sync.Mutex
	waiting   map[string]chan map[string]any
	activated chan time.Time
}

func (e *env) simProcess(t testing.TB) *simProcess {
	t.Helper()
	p := &simProcess{id: uuid.NewString(), waiting: map[string]chan map[string]any{}, activated: make(chan time.Time, 1)}
	url := fmt.Sprintf("ws://%s/?pID=%s&sdkVersion=5.4.0&sdkLanguage=Go&ComputeId=%s&FleetId=%s&Authorization=%s", e.sdkAddr, p.id, e.compute, e.fleetID, e.token)
	c, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.c = c
	go p.readLoop()
	if r := p.call(map[string]any{"Action": "ActivateServerProcess", "SdkVersion": "5.4.0", "SdkLanguage": "Go", "Port": 7777}); r["StatusCode"] != float64(200) {
		t.Fatalf("ActivateServerProcess: %v", r)
	}
	return p
}

func (p *simProcess) readLoop() {
	for {
		_, b, err := p.c.Read(context.Background())
		if err != nil {
			return
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		if m["Action"] == "CreateGameSession" {
			go func() {
				p.call(map[string]any{"Action": "ActivateGameSession", "GameSessionId": m["GameSessionId"]})
				p.activated <- time.Now()
			}()
			continue
		}
		id, _ := m["RequestId"].(string)
		p.mu.Lock()
		ch := p.waiting[id]
		delete(p.waiting, id)
		p.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

func (p *simProcess) call(msg map[string]any) map[string]any {
	id := uuid.NewString()
	msg["RequestId"] = id
	ch := make(chan map[string]any, 1)
	p.mu.Lock()
	p.waiting[id] = ch
	p.mu.Unlock()
	b, _ := json.Marshal(msg)
	p.c.Write(context.Background(), websocket.MessageText, b)
	select {
	case m := <-ch:
		return m
	case <-time.After(20 * time.Second):
		return map[string]any{"StatusCode": float64(0), "ErrorMessage": "timeout"}
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func TestFiguresCreateGameSessionToActive(t *testing.T) {
	figures(t)
	e := newEnv(t)
	const n = 300
	procs := make([]*simProcess, n)
	for i := range procs {
		procs[i] = e.simProcess(t)
	}
	byID := map[string]*simProcess{}
	for _, p := range procs {
		byID[p.id] = p
	}
	lat := make([]time.Duration, 0, n)
	for i := range n {
		start, processID := e.createNumbered(i)
		done := <-byID[processID].activated
		lat = append(lat, done.Sub(start))
	}
	t.Logf("CreateGameSession (control API, CBOR) → ACTIVE acknowledged to the process, %d sessions: p50 %v, p90 %v, p99 %v, max %v",
		n, percentile(lat, 0.5), percentile(lat, 0.9), percentile(lat, 0.99), percentile(lat, 1))
}

func TestFiguresCreateGameSessionToActiveWithTheRealGoSDK(t *testing.T) {
	figures(t)
	e := newEnv(t)
	const n = 20
	servers := e.startReadyServers(n)
	var lat []time.Duration
	for i := range n {
		start, processID := e.createNumbered(i)
		a := servers[processID].Wait("event", "activated")
		lat = append(lat, time.Unix(0, int64(a["at"].(float64))).Sub(start))
	}
	t.Logf("CreateGameSession → ActivateGameSession answered, real Go SDK processes, %d sessions: p50 %v, p99 %v, max %v",
		n, percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 1))
}

func TestFiguresAcceptPlayerSessionRoundTrips(t *testing.T) {
	figures(t)
	e := newEnv(t)
	ctx := context.Background()
	g := e.startReady("")
	id := e.activeSession(g, "bench", 200)
	for _, conc := range []int{1, 8, 64, 200} {
		var total time.Duration
		accepted := 0
		for range 5 {
			ids := e.reserveMany(id, 200)
			r := g.Call("acceptmany", map[string]any{"ids": ids, "conc": conc})
			if r["failed"] != float64(0) {
				t.Fatalf("%v accepts failed", r["failed"])
			}
			total += time.Duration(r["elapsedNs"].(float64))
			accepted += len(ids)
			for _, p := range ids {
				if err := e.srv.Hosting.Sessions.RemovePlayerSession(ctx, g.ID, id, p, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		t.Logf("AcceptPlayerSession from one real Go SDK process, %d concurrent calls: %d in %v = %.0f round trips/s",
			conc, accepted, total, float64(accepted)/total.Seconds())
	}
}

// heapBytes reads the control plane's Go heap and stack in use.
func (e *env) memInUse(t *testing.T) float64 {
	resp, err := http.Get("http://" + e.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		for _, m := range []string{"go_memstats_heap_inuse_bytes ", "go_memstats_stack_inuse_bytes "} {
			if strings.HasPrefix(line, m) {
				v, _ := strconv.ParseFloat(strings.TrimPrefix(line, m), 64)
				sum += v
			}
		}
	}
	return sum
}

func TestFiguresMemoryPerConnectedProcess(t *testing.T) {
	figures(t)
	// The control plane runs in its own process (the muster binary) so the
	// simulated processes' memory is not counted.
	e := newBinaryEnv(t, testenv.Binary(t))
	const n = 1000
	var conns atomic.Int64
	before := e.memInUse(t)
	rssBefore := rss(t, e.pid)
	procs := make([]*simProcess, 0, n)
	for range n {
		procs = append(procs, e.simProcess(t))
		conns.Add(1)
	}
	time.Sleep(2 * time.Second) // let the metrics snapshot and the GC settle
	after := e.memInUse(t)
	rssAfter := rss(t, e.pid)
	t.Logf("%d connected processes: Go heap+stack in use %.1f KiB per process, RSS %.1f KiB per process",
		conns.Load(), (after-before)/n/1024, float64(rssAfter-rssBefore)/n/1024)
	for _, p := range procs {
		p.c.CloseNow()
	}
}

// newBinaryEnv runs the muster binary as the control plane.
func newBinaryEnv(t *testing.T, bin string) *env {
	t.Helper()
	e := &env{t: t, location: "custom-test", compute: "host-1"}
	e.addr, e.sdkAddr = freeAddrs(t)
	cmd := exec.Command(bin, "serve", "--listen", e.addr, "--sdk-listen", e.sdkAddr, "--data-dir", t.TempDir(), "--log-level", "warn")
	cmd.Env = append(os.Environ(), "MUSTER_ADMIN_ACCESS_KEY_ID="+adminKey, "MUSTER_ADMIN_SECRET_ACCESS_KEY="+adminSecret)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	e.pid = cmd.Process.Pid
	e.waitFor("muster serve", func() bool {
		resp, err := http.Get("http://" + e.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	e.gl = gl.NewFromConfig(aws.Config{Region: "mu-local-1", Credentials: credentials.NewStaticCredentialsProvider(adminKey, adminSecret, ""), RetryMaxAttempts: 1},
		func(o *gl.Options) { o.BaseEndpoint = aws.String("http://" + e.addr) })
	e.setupFleet()
	return e
}

// rss reads a process's resident set size in bytes.
func rss(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func TestFiguresAcceptPlayerSessionServerSide(t *testing.T) {
	figures(t)
	e := newEnv(t)
	ctx := context.Background()
	p := e.simProcess(t)
	out, err := e.gl.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: aws.String(e.fleetID), Location: aws.String(e.location), MaximumPlayerSessionCount: aws.Int32(200)})
	if err != nil {
		t.Fatal(err)
	}
	<-p.activated
	id := aws.ToString(out.GameSession.GameSessionId)
	var total time.Duration
	n := 0
	for range 10 {
		ids := e.reserveMany(id, 200)
		start := time.Now()
		var wg sync.WaitGroup
		var next atomic.Int64
		for range 64 {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= len(ids) {
						return
					}
					if r := p.call(map[string]any{"Action": "AcceptPlayerSession", "GameSessionId": id, "PlayerSessionId": ids[i]}); r["StatusCode"] != float64(200) {
						t.Error(r)
					}
				}
			})
		}
		wg.Wait()
		total += time.Since(start)
		n += len(ids)
		for _, ps := range ids {
			e.srv.Hosting.Sessions.RemovePlayerSession(ctx, p.id, id, ps, "")
		}
	}
	t.Logf("AcceptPlayerSession, simulated client, 64 concurrent: %d in %v = %.0f/s", n, total, float64(n)/total.Seconds())
}

// reserveMany reserves n player sessions (a multiple of 25) for new
// players in a game session, 25 per CreatePlayerSessions call.
func (e *env) reserveMany(gameSessionID string, n int) []string {
	e.t.Helper()
	var ids []string
	for range n / 25 {
		players := make([]string, 25)
		for i := range players {
			players[i] = uuid.NewString()
		}
		ids = append(ids, e.reserve(gameSessionID, players...)...)
	}
	return ids
}

// createNumbered creates game session number i (its name) for four
// players and returns when it was asked for and the process it went to.
func (e *env) createNumbered(i int) (time.Time, string) {
	e.t.Helper()
	ctx := context.Background()
	start := time.Now()
	out, err := e.gl.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: aws.String(e.fleetID), Location: aws.String(e.location),
		MaximumPlayerSessionCount: aws.Int32(4), Name: aws.String(strconv.Itoa(i))})
	if err != nil {
		e.t.Fatal(err)
	}
	gs, err := e.srv.Hosting.Sessions.GameSession(ctx, aws.ToString(out.GameSession.GameSessionId))
	if err != nil {
		e.t.Fatal(err)
	}
	return start, gs.ProcessID
}
