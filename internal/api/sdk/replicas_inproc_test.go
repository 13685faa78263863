package sdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"

	"github.com/musterhq/muster/internal/api/sdk"
	"github.com/musterhq/muster/internal/bus/natsbus/natstest"
	"github.com/musterhq/muster/internal/server"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
	"github.com/musterhq/muster/internal/testenv"
)

// inProcessReplica runs a whole server in process on the PostgreSQL store
// at storeURL, on a fake clock, with extra changing its configuration.
func inProcessReplica(t *testing.T, storeURL string, extra func(*server.Config)) *env {
	t.Helper()
	e := &env{t: t, location: "custom-replicas", compute: "host-1"}
	e.addr, e.sdkAddr = freeAddrs(t)
	e.cfg = server.Config{Listen: e.addr, DataDir: t.TempDir(), SDKListen: e.sdkAddr, FakeClock: true, Store: storeURL, MasterKey: replicaMasterKey,
		AdminAccessKeyID: adminKey, AdminSecretAccessKey: adminSecret, ShutdownTimeout: 5 * time.Second}
	if extra != nil {
		extra(&e.cfg)
	}
	e.start()
	t.Cleanup(e.stop)
	e.gl = gl.NewFromConfig(aws.Config{Region: "mu-local-1", Credentials: credentials.NewStaticCredentialsProvider(adminKey, adminSecret, ""), RetryMaxAttempts: 1},
		func(o *gl.Options) { o.BaseEndpoint = aws.String("http://" + e.addr) })
	return e
}

// replicaPair runs replicas a and b on one new PostgreSQL database, b
// serving a's fleet, with one game server ready on a. With deaf, a listens
// on NATS while b notifies through PostgreSQL, so a never hears b's wakes.
func replicaPair(t *testing.T, deaf bool) (a, b *env, g *testenv.SDKGameServer) {
	t.Helper()
	storeURL := pgtest.NewDatabase(t)
	var onNATS func(*server.Config)
	if deaf {
		natsURL := natstest.Start(t).ClientURL()
		onNATS = func(c *server.Config) { c.NATS = natsURL }
	}
	a = inProcessReplica(t, storeURL, onNATS)
	b = inProcessReplica(t, storeURL, nil)
	a.setupFleet()
	b.fleetID, b.token = a.fleetID, a.token
	return a, b, a.startReady("")
}

// TestRefreshConnectionReachesAGameServerOnAnotherReplica: replica B
// tells a game server connected to replica A to reconnect, to B. The push
// crosses over the bus; the game server's SDK moves to B without a second
// ProcessReady.
func TestRefreshConnectionReachesAGameServerOnAnotherReplica(t *testing.T) {
	a, b, g := replicaPair(t, false)
	gs := aws.ToString(a.createGameSession("refreshed", 4).GameSessionId)
	g.Wait("event", "start")
	g.Wait("event", "activated")

	tok, err := b.gl.GetComputeAuthToken(context.Background(), &gl.GetComputeAuthTokenInput{FleetId: aws.String(b.fleetID), ComputeName: aws.String(b.compute)})
	if err != nil {
		t.Fatal(err)
	}
	b.srv.Hosting.SDK.RefreshConnection(g.ID, "ws://"+b.sdkAddr, aws.ToString(tok.AuthToken))
	b.waitFor("the game server's socket on B", func() bool { return b.srv.Hosting.SDK.Connections(g.ID) == 1 })
	p := b.reserve(gs, "moved")[0]
	if err := g.CallErr("accept", p); err != "" {
		t.Fatalf("AcceptPlayerSession through B: %s", err)
	}
	if n := a.srv.Hosting.SDK.Activations(g.ID) + b.srv.Hosting.SDK.Activations(g.ID); n != 1 {
		t.Fatalf("%d ActivateServerProcess, want 1", n)
	}
}

// TestABackfillUpdateWhoseWakeIsLostIsCaughtUpFromTheStore: replica A
// listens on NATS and replica B notifies through PostgreSQL, so A never
// hears B's wakes. A backfill's new matchmaker data committed on B for a
// game server connected to A waits in the store, and A's periodic
// catch-up sends it: the SDK's OnUpdateGameSession gets it once.
func TestABackfillUpdateWhoseWakeIsLostIsCaughtUpFromTheStore(t *testing.T) {
	a, b, g := replicaPair(t, true)
	gs := aws.ToString(b.createGameSession("backfilled", 4).GameSessionId)
	a.advance(sdk.DefaultCatchUpInterval) // B's CreateGameSession wake is lost too
	if start := g.Wait("event", "start"); start["gameSessionId"] != gs {
		t.Fatalf("OnStartGameSession got %v, want %s", start, gs)
	}
	g.Wait("event", "activated")
	b.waitFor("the game session to be ACTIVE", func() bool { return b.gameSession(gs).Status == "ACTIVE" })

	if err := b.srv.Hosting.Sessions.UpdateMatchmakerData(context.Background(), gs, `{"matchId":"m2","teams":[]}`, "MATCHMAKING_DATA_UPDATED", "backfill-1"); err != nil {
		t.Fatal(err)
	}
	a.advance(sdk.DefaultCatchUpInterval)
	u := g.Wait("event", "update")
	if u["reason"] != "MATCHMAKING_DATA_UPDATED" || u["ticket"] != "backfill-1" {
		t.Fatalf("OnUpdateGameSession got %v", u)
	}
	// Sent once: the next round finds nothing left to send.
	rounds := a.srv.Hosting.SDK.CatchUps()
	a.advance(sdk.DefaultCatchUpInterval)
	a.waitFor("A's next catch-up round", func() bool { return a.srv.Hosting.SDK.CatchUps() > rounds })
	if r := g.Call("gsid", nil); r["result"] != gs { // a round trip on the socket, after anything the round sent
		t.Fatalf("the game server's game session is %v, want %s", r["result"], gs)
	}
	if ev := g.Peek("event", "update"); ev != nil {
		t.Fatalf("OnUpdateGameSession called again: %v", ev)
	}
}

// TestAPendingUpdateIsSentOnceBySendersAtOnce: the socket's catch-up, a
// wake and the periodic round may send a process its pending updates at
// the same moment; the game server still hears each update once.
func TestAPendingUpdateIsSentOnceBySendersAtOnce(t *testing.T) {
	a, b, g := replicaPair(t, true) // b's wakes never reach a
	gs := aws.ToString(a.createGameSession("backfilled", 4).GameSessionId)
	g.Wait("event", "start")
	g.Wait("event", "activated")
	b.waitFor("the game session to be ACTIVE", func() bool { return b.gameSession(gs).Status == "ACTIVE" })

	if err := b.srv.Hosting.Sessions.UpdateMatchmakerData(context.Background(), gs, `{"matchId":"m2","teams":[]}`, "MATCHMAKING_DATA_UPDATED", "backfill-1"); err != nil {
		t.Fatal(err)
	}
	a.srv.Hosting.SDK.DeliverPendingUpdates(g.ID, 8)
	if u := g.Wait("event", "update"); u["ticket"] != "backfill-1" {
		t.Fatalf("OnUpdateGameSession got %v", u)
	}
	if r := g.Call("gsid", nil); r["result"] != gs { // a round trip on the socket, after anything the senders sent
		t.Fatalf("the game server's game session is %v, want %s", r["result"], gs)
	}
	if ev := g.Peek("event", "update"); ev != nil {
		t.Fatalf("OnUpdateGameSession called again: %v", ev)
	}
}
