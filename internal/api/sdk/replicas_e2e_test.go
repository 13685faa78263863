package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/musterhq/muster/internal/api/sdk"
	"github.com/musterhq/muster/internal/bus/natsbus"
	"github.com/musterhq/muster/internal/bus/natsbus/natstest"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
	"github.com/musterhq/muster/internal/testenv"
)

// tcpProxy is a TCP load balancer reduced to what the server SDKs need of
// one: each connection goes to the current backend, and point moves new
// connections to another (as a balancer's health check does when a
// backend dies). The SDKs reconnect to the same URL, so this is how their
// sockets reach another replica.
type tcpProxy struct {
	*testenv.Relay

	mu      sync.Mutex
	backend string
}

func newTCPProxy(t *testing.T, backend string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{backend: backend}
	p.Relay = testenv.NewRelay(t, func() string {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.backend
	})
	return p
}

func (p *tcpProxy) addr() string { return p.Addr() }

// point sends new connections to backend.
func (p *tcpProxy) point(backend string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backend = backend
}

// replica is one `muster serve` of a multi-replica test.
type replica struct {
	*testenv.Server
	sdkAddr string
	gl      *gl.Client
}

// replicaMasterKey seals the secrets every replica of a test shares.
const replicaMasterKey = "6d75737465722d7265706c696361732d746573742d6d61737465722d6b657921"

// startReplica runs `muster serve` on the store at storeURL with its SDK
// endpoint on a free port, advertising sdkURL.
func startReplica(t *testing.T, storeURL, sdkURL string, extra ...string) *replica {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "sdk-addr")
	args := append([]string{"--store", storeURL, "--master-key", replicaMasterKey, "--sdk-listen", "127.0.0.1:0", "--sdk-addr-file", addrFile,
		"--sdk-url", sdkURL}, extra...)
	s := testenv.Start(t, testenv.WithArgs(args...))
	r := &replica{Server: s, gl: s.Admin()}
	testenv.Eventually(t, "the SDK endpoint to listen", 30*time.Second, func() bool {
		b, err := os.ReadFile(addrFile)
		r.sdkAddr = string(b)
		return err == nil && len(b) > 0
	})
	return r
}

// TestGameServersKeepTheirGameSessionsAcrossReplicas runs two `muster
// serve` replicas on one PostgreSQL database, with game servers on the
// official Go server SDK reaching them through a TCP proxy, as they would
// through a TCP load balancer.
func TestGameServersKeepTheirGameSessionsAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs two muster replicas")
	}
	storeURL := pgtest.NewDatabase(t)
	testReplicas(t, storeURL)
}

// TestGameServersKeepTheirGameSessionsAcrossReplicasOverNATS is the same
// with NATS (a real server, in process) as the bus between the replicas.
func TestGameServersKeepTheirGameSessionsAcrossReplicasOverNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs two muster replicas")
	}
	natsURL := natstest.Start(t).ClientURL()
	testReplicas(t, pgtest.NewDatabase(t), "--nats", natsURL)
	t.Run("the events reach JetStream on muster.events.<type>, each once", func(t *testing.T) {
		nc, err := nats.Connect(natsURL)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		var ids []string
		// testReplicas activated three game sessions: to-end, through-b
		// and while-away.
		testenv.Eventually(t, "the three GameSessionActivated events on JetStream", 60*time.Second, func() bool {
			cons, err := js.OrderedConsumer(ctx, natsbus.DefaultStream, jetstream.OrderedConsumerConfig{
				FilterSubjects: []string{natsbus.Subject(session.EventGameSessionActivated)}})
			if err != nil {
				return false // the stream is made by the first publisher
			}
			batch, err := cons.FetchNoWait(100)
			if err != nil {
				t.Fatal(err)
			}
			ids = ids[:0]
			for m := range batch.Messages() {
				ids = append(ids, m.Headers().Get(jetstream.MsgIDHeader))
			}
			return len(ids) >= 3
		})
		distinct := map[string]bool{}
		for _, id := range ids {
			distinct[id] = id != ""
		}
		if len(ids) != 3 || len(distinct) != 3 || !distinct[ids[0]] || !distinct[ids[1]] || !distinct[ids[2]] {
			t.Fatalf("GameSessionActivated messages carry ids %v, want the three events once each", ids)
		}
	})
}

// TestAPushWhoseWakeIsLostIsCaughtUpFromTheStore: replica A listens on
// NATS and replica B notifies through PostgreSQL, so A never hears B's
// wakes — as when notifications are lost. A game session B creates for
// A's game server reaches it on A's periodic catch-up from the store,
// which runs when A's fake clock passes the catch-up interval.
func TestAPushWhoseWakeIsLostIsCaughtUpFromTheStore(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs two muster replicas")
	}
	storeURL := pgtest.NewDatabase(t)
	proxy := newTCPProxy(t, "127.0.0.1:1")
	a := startReplica(t, storeURL, "ws://"+proxy.addr(), "--nats", natstest.Start(t).ClientURL(), "--fake-clock")
	b := startReplica(t, storeURL, "ws://"+proxy.addr())
	proxy.point(a.sdkAddr)
	e := &env{t: t, location: "custom-replicas", compute: "host-1", sdkAddr: proxy.addr(), gl: a.gl}
	e.setupFleet()
	onB := &env{t: t, location: e.location, fleetID: e.fleetID, gl: b.gl}
	g := e.startReady("")
	gs := aws.ToString(onB.createGameSession("wake-lost", 4).GameSessionId)
	body := fmt.Sprintf(`{"seconds":%g}`, sdk.DefaultCatchUpInterval.Seconds())
	if res, out, err := a.Bearer(context.Background(), "POST", "/v1/admin/clock/advance", body); err != nil || res.StatusCode != 200 {
		t.Fatalf("advance A's clock: %v %s", err, out)
	}
	if start := g.Wait("event", "start"); start["gameSessionId"] != gs {
		t.Fatalf("OnStartGameSession got %v, want %s", start, gs)
	}
	if a := g.Wait("event", "activated"); a["err"] != "" {
		t.Fatalf("ActivateGameSession: %v", a["err"])
	}
}

func testReplicas(t *testing.T, storeURL string, extra ...string) {
	proxy := newTCPProxy(t, "127.0.0.1:1") // pointed at A once A listens
	a := startReplica(t, storeURL, "ws://"+proxy.addr(), extra...)
	b := startReplica(t, storeURL, "ws://"+proxy.addr(), extra...)
	proxy.point(a.sdkAddr)
	e := &env{t: t, location: "custom-replicas", compute: "host-1", sdkAddr: proxy.addr(), gl: a.gl}
	e.setupFleet()
	onB := &env{t: t, location: e.location, fleetID: e.fleetID, gl: b.gl}

	g0 := e.startReady("")
	t.Run("TerminateGameSession through B tells the game server connected to A to end", func(t *testing.T) {
		gs0 := aws.ToString(onB.createGameSession("to-end", 4).GameSessionId)
		if start := g0.Wait("event", "start"); start["gameSessionId"] != gs0 {
			t.Fatalf("OnStartGameSession got %v, want %s", start, gs0)
		}
		g0.Wait("event", "activated")
		if _, err := b.gl.TerminateGameSession(context.Background(), &gl.TerminateGameSessionInput{GameSessionId: aws.String(gs0),
			TerminationMode: types.TerminationModeTriggerOnProcessTerminate}); err != nil {
			t.Fatal(err)
		}
		g0.Wait("event", "terminate")
		if r := g0.Call("end", nil); r["err"] != "" { // ProcessEnding, through A
			t.Fatalf("ProcessEnding: %v", r["err"])
		}
	})

	g1 := e.startReady("")
	var gs1 string
	t.Run("a game session created through B reaches the game server connected to A", func(t *testing.T) {
		sent := time.Now()
		gs1 = aws.ToString(onB.createGameSession("through-b", 4).GameSessionId)
		start := g1.Wait("event", "start")
		// A figure, not a limit: it includes the API call to B.
		t.Logf("CreateGameSession sent to B → OnStartGameSession read from A's game server: %v", time.Since(sent))
		if start["gameSessionId"] != gs1 {
			t.Fatalf("OnStartGameSession got %v, want %s", start, gs1)
		}
		if a := g1.Wait("event", "activated"); a["err"] != "" {
			t.Fatalf("ActivateGameSession: %v", a["err"])
		}
		if st := onB.gameSession(gs1).Status; st != types.GameSessionStatusActive {
			t.Fatalf("status %s through B", st)
		}
	})

	g2 := e.startReady("")
	a.Kill() // kill -9: both game servers lose their sockets
	var gs2 string
	t.Run("a game session placed while its game server is between replicas reaches it when it reconnects", func(t *testing.T) {
		// g2 is the fleet's one idle process; its socket died with A, so
		// the push can only come from the store when it reconnects.
		gs2 = aws.ToString(onB.createGameSession("while-away", 4).GameSessionId)
		proxy.point(b.sdkAddr) // the balancer's health check saw A die
		if start := g2.Wait("event", "start"); start["gameSessionId"] != gs2 {
			t.Fatalf("OnStartGameSession got %v, want %s", start, gs2)
		}
		if a := g2.Wait("event", "activated"); a["err"] != "" {
			t.Fatalf("ActivateGameSession: %v", a["err"])
		}
		if st := onB.gameSession(gs2).Status; st != types.GameSessionStatusActive {
			t.Fatalf("status %s through B", st)
		}
	})
	t.Run("the game server A hosted reconnects to B and keeps its game session", func(t *testing.T) {
		players := onB.reserve(gs1, "p1")
		testenv.Eventually(t, "AcceptPlayerSession through B", 60*time.Second, func() bool {
			return g1.CallErr("accept", players[0]) == "" // fails while the SDK reconnects
		})
		if st := onB.gameSession(gs1).Status; st != types.GameSessionStatusActive {
			t.Fatalf("status %s after the move", st)
		}
		if ps := onB.playerSession(players[0]); ps.Status != types.PlayerSessionStatusActive {
			t.Fatalf("player session %s after AcceptPlayerSession", ps.Status)
		}
		if r := g1.Call("gsid", nil); r["result"] != gs1 {
			t.Fatalf("the game server's game session is %v, want %s", r["result"], gs1)
		}
	})
}

// TestABackfillReachesTheGameServerOnTheReplicaNotRunningThePool: the
// matchmaking configuration's pool runs on the replica holding its lease,
// and the game server hosting the match is connected to the other one; the
// backfill's new matchmaker data (UpdateGameSession) crosses over the bus.
func TestABackfillReachesTheGameServerOnTheReplicaNotRunningThePool(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs two muster replicas")
	}
	storeURL := pgtest.NewDatabase(t)
	proxy := newTCPProxy(t, "127.0.0.1:1")
	replicas := map[string]*replica{}
	for _, id := range []string{"a", "b"} {
		replicas[id] = startReplica(t, storeURL, "ws://"+proxy.addr(), "--replica-id", id)
	}
	e := &env{t: t, location: "custom-replicas", compute: "host-1", sdkAddr: proxy.addr(), gl: replicas["a"].gl}
	e.setupFleet()
	e.withQueue(types.BackfillModeAutomatic)
	var owner string
	testenv.Eventually(t, "a replica to take the pool's lease", 30*time.Second, func() bool {
		res, body, err := replicas["a"].Bearer(context.Background(), "GET", "/v1/admin/leases", "")
		if err != nil || res.StatusCode != 200 {
			return false
		}
		var doc struct {
			Leases []struct{ Name, Holder string }
		}
		json.Unmarshal(body, &doc)
		for _, l := range doc.Leases {
			if l.Name == "matchmaking/q" {
				owner = l.Holder
			}
		}
		return owner != ""
	})
	other := map[string]string{"a": "b", "b": "a"}[owner]
	if other == "" {
		t.Fatalf("the pool's lease is held by %q, neither replica", owner)
	}
	proxy.point(replicas[other].sdkAddr)
	g := e.startReady("")
	e.startTicket("a", "pa", 1000)
	e.startTicket("b", "pb", 1000)
	a := e.waitTicket("a", types.MatchmakingConfigurationStatusCompleted)
	gs := aws.ToString(a.GameSessionConnectionInfo.GameSessionArn)
	if start := g.Wait("event", "start"); start["gameSessionId"] != gs {
		t.Fatalf("OnStartGameSession got %v, want %s", start, gs)
	}
	g.Wait("event", "activated")
	e.startTicket("c", "pc", 1010)
	if c := e.waitTicket("c", types.MatchmakingConfigurationStatusCompleted); aws.ToString(c.GameSessionConnectionInfo.GameSessionArn) != gs {
		t.Fatalf("ticket c joined %s, want the backfilled %s", aws.ToString(c.GameSessionConnectionInfo.GameSessionArn), gs)
	}
	if u := g.Wait("event", "update"); u["reason"] != "MATCHMAKING_DATA_UPDATED" {
		t.Fatalf("OnUpdateGameSession %v", u)
	}
}
