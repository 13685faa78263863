package sdk_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/coder/websocket"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/api/sdk"
	"github.com/musterhq/muster/internal/testenv"
)

// newEnvHosting is newEnv with one ready game server hosting the active
// game session name, for four players.
func newEnvHosting(t *testing.T, name string) (*env, *testenv.SDKGameServer, string) {
	t.Helper()
	e := newEnv(t)
	g := e.startReady("")
	return e, g, e.activeSession(g, name, 4)
}

// activeSession creates a game session, which goes to g, and waits until g
// has activated it.
func (e *env) activeSession(g *testenv.SDKGameServer, name string, max int32, props ...types.GameProperty) string {
	e.t.Helper()
	id := aws.ToString(e.createGameSession(name, max, props...).GameSessionId)
	g.Wait("event", "start")
	if a := g.Wait("event", "activated"); a["err"] != "" {
		e.t.Fatalf("ActivateGameSession: %v", a["err"])
	}
	return id
}

func (e *env) reserve(gameSessionID string, players ...string) []string {
	e.t.Helper()
	out, err := e.gl.CreatePlayerSessions(context.Background(), &gl.CreatePlayerSessionsInput{GameSessionId: aws.String(gameSessionID), PlayerIds: players})
	if err != nil {
		e.t.Fatal(err)
	}
	ids := make([]string, len(out.PlayerSessions))
	for i, p := range out.PlayerSessions {
		ids[i] = aws.ToString(p.PlayerSessionId)
	}
	return ids
}

func TestAPlayerSessionOfAnotherGameSessionIsRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	servers := e.startReadyServers(2)
	host := func(id string) *testenv.SDKGameServer {
		gs, err := e.srv.Hosting.Sessions.GameSession(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		g := servers[gs.ProcessID]
		g.Wait("event", "activated")
		return g
	}
	sa := aws.ToString(e.createGameSession("a", 4).GameSessionId)
	sb := aws.ToString(e.createGameSession("b", 4).GameSessionId)
	a, b := host(sa), host(sb)
	if a == b {
		t.Fatal("both sessions on one process")
	}
	p := e.reserve(sb, "mallory")[0]
	if err := a.CallErr("accept", p); !strings.Contains(err, "Not found") {
		t.Fatalf("accepting another session's player: %q", err)
	}
	if err := b.CallErr("accept", p); err != "" {
		t.Fatalf("accepting in the right session: %q", err)
	}
}

func TestAReconnectAfterTheSocketDropsCarriesOnWithoutASecondProcessReady(t *testing.T) {
	t.Parallel() // waits on the Go server SDK's own real-time timers
	e, g, id := newEnvHosting(t, "r")
	players := e.reserve(id, "p1", "p2")
	if !e.srv.Hosting.SDK.DropConnection(g.ID) {
		t.Fatal("no connection to drop")
	}
	// The SDK reconnects at once with the same URL (a call made before it
	// notices the drop is lost with the socket, as with GameLift); the next
	// call goes over the new socket.
	e.waitFor("the process to reconnect", func() bool {
		return e.srv.Hosting.SDK.Connections(g.ID) == 2 && e.srv.Hosting.SDK.Connected(g.ID)
	})
	if err := g.CallErr("accept", players[0]); err != "" {
		t.Fatalf("AcceptPlayerSession after the reconnect: %s", err)
	}
	if n := e.srv.Hosting.SDK.Activations(g.ID); n != 1 {
		t.Fatalf("%d ActivateServerProcess requests, want 1", n)
	}
	g.Wait("event", "health") // heartbeats continue
	if err := g.CallErr("accept", players[1]); err != "" {
		t.Fatal(err)
	}
}

func TestAGameSessionNotActivatedInTimeEndsInError(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	g := e.startReady("", "GS_NO_ACTIVATE=1")
	id := aws.ToString(e.createGameSession("slow", 4).GameSessionId)
	g.Wait("event", "start")
	e.advance(29 * time.Second)
	if st := e.gameSession(id).Status; st != types.GameSessionStatusActivating {
		t.Fatalf("status %s before the timeout, want ACTIVATING", st)
	}
	e.advance(2 * time.Second)
	if st := e.gameSession(id).Status; st != types.GameSessionStatusError {
		t.Fatalf("status %s after the timeout, want ERROR", st)
	}
	if err := e.srv.Hosting.Sessions.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	ev, err := e.gl.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: aws.String(e.fleetID)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range ev.Events {
		found = found || x.EventCode == types.EventCodeGameSessionActivationTimeout
	}
	if !found {
		t.Fatalf("no GAME_SESSION_ACTIVATION_TIMEOUT in %d events", len(ev.Events))
	}
	g.Wait("event", "terminate")
	_, err = e.gl.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: aws.String(id), TerminationMode: types.TerminationModeForceTerminate})
	var bad *types.InvalidGameSessionStatusException
	if !errors.As(err, &bad) {
		t.Fatalf("TerminateGameSession of an ERROR session: %v", err)
	}
}

func TestAGoServerConnectsOverWSSWithTheGeneratedCertificateTrusted(t *testing.T) {
	e := newEnv(t)
	cert := filepath.Join(e.cfg.DataDir, sdk.CertFile)
	g := e.startReady("wss://"+e.sdkAddr, "SSL_CERT_FILE="+cert)
	id := e.activeSession(g, "tls", 2)
	p := e.reserve(id, "p")[0]
	if err := g.CallErr("accept", p); err != "" {
		t.Fatal(err)
	}
}

// rawClient speaks the protocol by hand, as the C++ SDK does: TLS (even for
// a ws:// URL) without verifying the certificate, TLS 1.2 at most, and a
// path with a trailing slash.
type rawClient struct {
	t *testing.T
	c *websocket.Conn
}

func (e *env) dialRaw(t *testing.T, pid, path string) *rawClient {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, ServerName: "127.0.0.1"}}}
	url := fmt.Sprintf("wss://%s%s?pID=%s&sdkVersion=5.4.0&sdkLanguage=Cpp&ComputeId=%s&FleetId=%s&Authorization=%s", e.sdkAddr, path, pid, e.compute, e.fleetID, e.token)
	c, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &rawClient{t: t, c: c}
}

func (r *rawClient) send(msg string) {
	r.t.Helper()
	if err := r.c.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawClient) read() map[string]any {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := r.c.Read(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		r.t.Fatal(err)
	}
	return m
}

func TestATLSClientLikeTheCppSDKIsServedAndResentRequestsApplyOnce(t *testing.T) {
	t.Parallel() // waits on the Go server SDK's own real-time timers
	e := newEnv(t)
	pid := "cpp-process-1"
	r := e.dialRaw(t, pid, "/")
	r.send(`{"Action":"ActivateServerProcess","RequestId":"a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4","SdkVersion":"5.4.0","SdkLanguage":"Cpp","Port":7001,"LogPaths":[]}`)
	if m := r.read(); m["StatusCode"] != float64(200) || m["RequestId"] != "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4" || m["Action"] != "ActivateServerProcess" {
		t.Fatalf("ActivateServerProcess answer %v", m)
	}
	gs := e.createGameSession("cpp", 4)
	id := aws.ToString(gs.GameSessionId)
	push := r.read()
	if push["Action"] != "CreateGameSession" || push["GameSessionId"] != id || push["StatusCode"] != float64(200) || push["Port"] != float64(7001) {
		t.Fatalf("CreateGameSession push %v", push)
	}
	if _, has := push["RequestId"]; has {
		t.Fatalf("push carries a RequestId: %v", push)
	}
	r.send(`{"Action":"ActivateGameSession","RequestId":"act1","GameSessionId":"` + id + `"}`)
	if m := r.read(); m["StatusCode"] != float64(200) {
		t.Fatalf("ActivateGameSession %v", m)
	}
	p := e.reserve(id, "p")[0]
	accept := `{"Action":"AcceptPlayerSession","RequestId":"acc1","GameSessionId":"` + id + `","PlayerSessionId":"` + p + `"}`
	r.send(accept)
	if m := r.read(); m["StatusCode"] != float64(200) {
		t.Fatalf("AcceptPlayerSession %v", m)
	}
	t.Run("the same RequestId re-sent on a new connection gets the first answer", func(t *testing.T) {
		r2 := e.dialRaw(t, pid, "/some/path/")
		r2.send(accept)
		if m := r2.read(); m["StatusCode"] != float64(200) || m["RequestId"] != "acc1" {
			t.Fatalf("re-sent AcceptPlayerSession %v", m)
		}
		r2.send(strings.Replace(accept, "acc1", "acc2", 1))
		if m := r2.read(); m["StatusCode"] != float64(400) || !strings.Contains(m["ErrorMessage"].(string), "not RESERVED") {
			t.Fatalf("a new AcceptPlayerSession of the same player %v", m)
		}
	})
	t.Run("a message with a wrong member type is answered with an error", func(t *testing.T) {
		r.send(`{"Action":"HeartbeatServerProcess","RequestId":"hb1","HealthStatus":"yes"}`)
		if m := r.read(); m["StatusCode"] != float64(400) || m["RequestId"] != "hb1" {
			t.Fatalf("bad heartbeat answer %v", m)
		}
	})
}

func TestABadTokenIsRefusedAtTheUpgrade(t *testing.T) {
	e := newEnv(t)
	for name, q := range map[string]string{
		"an unknown token":       "pID=x&ComputeId=" + e.compute + "&FleetId=" + e.fleetID + "&Authorization=mt-nope",
		"another compute's name": "pID=x&ComputeId=host-2&FleetId=" + e.fleetID + "&Authorization=" + e.token,
		"SigV4":                  "pID=x&ComputeId=" + e.compute + "&FleetId=" + e.fleetID + "&Authorization=SigV4",
	} {
		t.Run(name, func(t *testing.T) {
			_, resp, err := websocket.Dial(context.Background(), "ws://"+e.sdkAddr+"/?"+q, nil)
			if err == nil || resp == nil || (resp.StatusCode != 401 && resp.StatusCode != 403) {
				t.Fatalf("dial: %v, %v", err, resp)
			}
		})
	}
}

func TestALostComputeEndsItsGameSessions(t *testing.T) {
	e, g, id := newEnvHosting(t, "lost")
	ctx := context.Background()
	p := e.reserve(id, "p")[0]
	if err := g.CallErr("accept", p); err != "" {
		t.Fatal(err)
	}
	code, reply := e.heartbeat(e.compute, agentwire.Heartbeat{Processes: []agentwire.Process{{ProcessID: g.ID, PID: g.PID()}}})
	if code != 200 {
		t.Fatalf("heartbeat: %d", code)
	}
	if reply.ComputeStatus != "ACTIVE" || len(reply.Processes) != 1 || reply.Processes[0].Status != "ACTIVE" || reply.HeartbeatIntervalSeconds != 10 {
		t.Fatalf("heartbeat reply %+v", reply)
	}
	e.advance(25 * time.Second)
	if err := e.srv.Hosting.Fleets.SweepLostComputes(ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.gameSession(id).Status; st != types.GameSessionStatusActive {
		t.Fatalf("status %s before the compute is lost", st)
	}
	e.advance(10 * time.Second)
	if err := e.srv.Hosting.Fleets.SweepLostComputes(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := e.gl.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: aws.String(e.fleetID), ComputeName: aws.String(e.compute)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString((*string)(&c.Compute.ComputeStatus)) != "IMPAIRED" {
		t.Fatalf("compute status %s, want IMPAIRED", c.Compute.ComputeStatus)
	}
	got := e.gameSession(id)
	if got.Status != types.GameSessionStatusTerminated || got.StatusReason != types.GameSessionStatusReasonInterrupted {
		t.Fatalf("game session %s/%s, want TERMINATED/INTERRUPTED", got.Status, got.StatusReason)
	}
	if st := e.playerSession(p).Status; st != types.PlayerSessionStatusCompleted {
		t.Fatalf("player session %s, want COMPLETED", st)
	}
	if code, _ := e.heartbeat("nope", agentwire.Heartbeat{}); code != 404 {
		t.Fatalf("heartbeat of an unknown compute: %d, want 404", code)
	}
}

func TestTwoConcurrentCreateGameSessionCallsNeverShareAProcess(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, b := e.startReady(""), e.startReady("")
	_, _ = a, b
	var mu sync.Mutex
	var ok []string
	capacity := 0
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			out, err := e.gl.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: aws.String(e.fleetID), Location: aws.String(e.location),
				Name: aws.String(fmt.Sprint("race-", i)), MaximumPlayerSessionCount: aws.Int32(2)})
			mu.Lock()
			defer mu.Unlock()
			var full *types.FleetCapacityExceededException
			switch {
			case err == nil:
				ok = append(ok, aws.ToString(out.GameSession.GameSessionId))
			case errors.As(err, &full):
				capacity++
			default:
				t.Errorf("CreateGameSession: %v", err)
			}
		})
	}
	wg.Wait()
	if len(ok) != 2 || capacity != 6 {
		t.Fatalf("%d created, %d refused for capacity; want 2 and 6", len(ok), capacity)
	}
	g0, _ := e.srv.Hosting.Sessions.GameSession(ctx, ok[0])
	g1, _ := e.srv.Hosting.Sessions.GameSession(ctx, ok[1])
	if g0.ProcessID == g1.ProcessID {
		t.Fatalf("both game sessions on process %s", g0.ProcessID)
	}
}

func TestProcessesReconnectAndCarryOnAfterTheControlPlaneRestarts(t *testing.T) {
	t.Parallel() // waits on the Go server SDK's own real-time timers
	e, g, id := newEnvHosting(t, "restart")
	players := e.reserve(id, "p1", "p2")
	if err := g.CallErr("accept", players[0]); err != "" {
		t.Fatal(err)
	}
	e.restart()
	e.waitFor("the process to reconnect", func() bool { return e.srv.Hosting.SDK.Connected(g.ID) })
	if err := g.CallErr("accept", players[1]); err != "" {
		t.Fatalf("AcceptPlayerSession after the restart: %s", err)
	}
	if n := e.srv.Hosting.SDK.Activations(g.ID); n != 0 {
		t.Fatalf("%d ActivateServerProcess after the restart, want none", n)
	}
	if st := e.gameSession(id).Status; st != types.GameSessionStatusActive {
		t.Fatalf("status %s after the restart", st)
	}
}

func TestADrainingComputeTellsItsProcessesToEndAndTakesNoNewSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	g := e.startReady("")
	draining := agentwire.Heartbeat{Draining: true, Processes: []agentwire.Process{{ProcessID: g.ID}}}
	code, reply := e.heartbeat(e.compute, draining)
	if code != 200 {
		t.Fatalf("heartbeat: %d", code)
	}
	if reply.ComputeStatus != "TERMINATING" {
		t.Fatalf("compute status %s, want TERMINATING", reply.ComputeStatus)
	}
	if term := g.Wait("event", "terminate"); term["err"] != "" {
		t.Fatalf("OnProcessTerminate: %v", term)
	}
	_, err := e.gl.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: aws.String(e.fleetID), Location: aws.String(e.location), MaximumPlayerSessionCount: aws.Int32(2)})
	var full *types.FleetCapacityExceededException
	if !errors.As(err, &full) {
		t.Fatalf("CreateGameSession on a draining compute: %v", err)
	}
	if r := g.Call("end", nil); r["err"] != "" {
		t.Fatal(r["err"])
	}
	if code, reply := e.heartbeat(e.compute, draining); code != 200 || reply.Processes[0].Status != "TERMINATED" {
		t.Fatalf("heartbeat after ProcessEnding: %d %+v", code, reply)
	}
}

func TestPushesReachTheGame(t *testing.T) {
	t.Parallel() // waits on the Go server SDK's own real-time timers
	e, g, id := newEnvHosting(t, "push")
	ctx := context.Background()
	t.Run("UpdateGameSession carries new matchmaker data for backfill", func(t *testing.T) {
		if err := e.srv.Hosting.Sessions.UpdateMatchmakerData(ctx, id, `{"matchId":"m1","teams":[]}`, "MATCHMAKING_DATA_UPDATED", "ticket-1"); err != nil {
			t.Fatal(err)
		}
		u := g.Wait("event", "update")
		if u["reason"] != "MATCHMAKING_DATA_UPDATED" || u["ticket"] != "ticket-1" {
			t.Fatalf("OnUpdateGameSession got %v", u)
		}
		if got := e.gameSession(id); aws.ToString(got.MatchmakerData) != `{"matchId":"m1","teams":[]}` {
			t.Fatalf("MatchmakerData %q", aws.ToString(got.MatchmakerData))
		}
	})
	t.Run("RefreshConnection moves the process to a new token without a second ProcessReady", func(t *testing.T) {
		tok, err := e.gl.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: aws.String(e.fleetID), ComputeName: aws.String(e.compute)})
		if err != nil {
			t.Fatal(err)
		}
		e.srv.Hosting.SDK.RefreshConnection(g.ID, "ws://"+e.sdkAddr+"/refreshed", aws.ToString(tok.AuthToken))
		e.waitFor("the refreshed connection", func() bool { return e.srv.Hosting.SDK.Connections(g.ID) == 2 })
		p := e.reserve(id, "late")[0]
		if err := g.CallErr("accept", p); err != "" {
			t.Fatal(err)
		}
		if n := e.srv.Hosting.SDK.Activations(g.ID); n != 1 {
			t.Fatalf("%d ActivateServerProcess, want 1", n)
		}
	})
	t.Run("UpdateGameSession and DescribeGameSessionDetails on the control API", func(t *testing.T) {
		out, err := e.gl.UpdateGameSession(ctx, &gl.UpdateGameSessionInput{GameSessionId: aws.String(id), Name: aws.String("renamed"),
			MaximumPlayerSessionCount: aws.Int32(6), ProtectionPolicy: types.ProtectionPolicyFullProtection,
			GameProperties: []types.GameProperty{{Key: aws.String("map"), Value: aws.String("dust")}}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.GameSession.Name) != "renamed" || aws.ToInt32(out.GameSession.MaximumPlayerSessionCount) != 6 {
			t.Fatalf("%+v", out.GameSession)
		}
		d, err := e.gl.DescribeGameSessionDetails(ctx, &gl.DescribeGameSessionDetailsInput{FleetId: aws.String(e.fleetID), StatusFilter: aws.String("ACTIVE")})
		if err != nil || len(d.GameSessionDetails) != 1 || d.GameSessionDetails[0].ProtectionPolicy != types.ProtectionPolicyFullProtection {
			t.Fatalf("%+v %v", d, err)
		}
	})
}

func TestMaxConcurrentGameSessionActivationsHoldsBackAComputeUntilItsSessionsActivate(t *testing.T) {
	t.Parallel() // waits on the Go server SDK's own real-time timers
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.gl.UpdateRuntimeConfiguration(ctx, &gl.UpdateRuntimeConfigurationInput{FleetId: aws.String(e.fleetID),
		RuntimeConfiguration: &types.RuntimeConfiguration{MaxConcurrentGameSessionActivations: aws.Int32(1),
			ServerProcesses: []types.ServerProcess{{LaunchPath: aws.String("/game"), ConcurrentExecutions: aws.Int32(2)}}}}); err != nil {
		t.Fatal(err)
	}
	clients := map[string]*rawClient{}
	for _, pid := range []string{"proc-a", "proc-b"} {
		r := e.dialRaw(t, pid, "/")
		r.send(`{"Action":"ActivateServerProcess","RequestId":"ready","Port":7001}`)
		r.read()
		clients[pid] = r
	}
	first := aws.ToString(e.createGameSession("one", 2).GameSessionId)
	_, err := e.gl.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: aws.String(e.fleetID), Location: aws.String(e.location), MaximumPlayerSessionCount: aws.Int32(2)})
	var full *types.FleetCapacityExceededException
	if !errors.As(err, &full) || !strings.Contains(aws.ToString(full.Message), "MaxConcurrentGameSessionActivations") {
		t.Fatalf("a second activation on the compute: %v", err)
	}
	gs, _ := e.srv.Hosting.Sessions.GameSession(ctx, first)
	r := clients[gs.ProcessID]
	if push := r.read(); push["Action"] != "CreateGameSession" {
		t.Fatalf("push %v", push)
	}
	r.send(`{"Action":"ActivateGameSession","RequestId":"act","GameSessionId":"` + first + `"}`)
	if m := r.read(); m["StatusCode"] != float64(200) {
		t.Fatal(m)
	}
	second := e.createGameSession("two", 2)
	if g2, _ := e.srv.Hosting.Sessions.GameSession(ctx, aws.ToString(second.GameSessionId)); g2.ProcessID == gs.ProcessID {
		t.Fatal("the second session went to the busy process")
	}
}

func TestAProcessThatFallsSilentIsEndedWithItsGameSession(t *testing.T) {
	t.Parallel() // waits on the Go server SDK's own real-time timers
	e := newEnv(t)
	ctx := context.Background()
	r := e.dialRaw(t, "proc-silent", "/")
	r.send(`{"Action":"ActivateServerProcess","RequestId":"ready","Port":7001}`)
	r.read()
	id := aws.ToString(e.createGameSession("quiet", 2).GameSessionId)
	r.read() // CreateGameSession
	r.send(`{"Action":"ActivateGameSession","RequestId":"act","GameSessionId":"` + id + `"}`)
	r.read()
	e.advance(4 * time.Minute)
	r.send(`{"Action":"HeartbeatServerProcess","RequestId":"hb","HealthStatus":true}`)
	r.read()
	e.advance(4 * time.Minute)
	if err := e.srv.Hosting.Fleets.SweepSilentProcesses(ctx); err != nil {
		t.Fatal(err)
	}
	// The fake clock is now past SigV4's skew window: read through the service.
	if g, _ := e.srv.Hosting.Sessions.GameSession(ctx, id); g.Status != "ACTIVE" {
		st := g.Status
		t.Fatalf("status %s four minutes after a heartbeat", st)
	}
	e.advance(2 * time.Minute)
	if err := e.srv.Hosting.Fleets.SweepSilentProcesses(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := e.srv.Hosting.Sessions.GameSession(ctx, id)
	if got.Status != "TERMINATED" || got.StatusReason != "INTERRUPTED" {
		t.Fatalf("status %s/%s, want TERMINATED/INTERRUPTED", got.Status, got.StatusReason)
	}
}

func TestCreateGameSessionIdempotencyAndCreatorLimits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.gl.UpdateFleetAttributes(ctx, &gl.UpdateFleetAttributesInput{FleetId: aws.String(e.fleetID),
		ResourceCreationLimitPolicy: &types.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: aws.Int32(1), PolicyPeriodInMinutes: aws.Int32(5)}}); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []string{"proc-1", "proc-2", "proc-3"} {
		r := e.dialRaw(t, pid, "/")
		r.send(`{"Action":"ActivateServerProcess","RequestId":"ready","Port":7001}`)
		r.read()
	}
	create := func(token, creator string) (*gl.CreateGameSessionOutput, error) {
		in := &gl.CreateGameSessionInput{FleetId: aws.String(e.fleetID), Location: aws.String(e.location), MaximumPlayerSessionCount: aws.Int32(2)}
		if token != "" {
			in.IdempotencyToken = aws.String(token)
		}
		if creator != "" {
			in.CreatorId = aws.String(creator)
		}
		return e.gl.CreateGameSession(ctx, in)
	}
	t.Run("the same IdempotencyToken returns the same game session", func(t *testing.T) {
		a, err := create("match-42", "")
		if err != nil {
			t.Fatal(err)
		}
		b, err := create("match-42", "")
		if err != nil {
			t.Fatal(err)
		}
		if id := aws.ToString(a.GameSession.GameSessionId); id != aws.ToString(b.GameSession.GameSessionId) || !strings.HasSuffix(id, "/match-42") {
			t.Fatalf("%s and %s", id, aws.ToString(b.GameSession.GameSessionId))
		}
		if n, _ := e.srv.Hosting.Fleets.IdleProcessCount(ctx, e.fleetID, e.location); n != 2 {
			t.Fatalf("%d idle processes, want 2: the repeat took a process", n)
		}
	})
	t.Run("a creator over the fleet's creation limit is refused", func(t *testing.T) {
		if _, err := create("", "player-7"); err != nil {
			t.Fatal(err)
		}
		_, err := create("", "player-7")
		var limit *types.LimitExceededException
		if !errors.As(err, &limit) || !strings.Contains(aws.ToString(limit.Message), "CreatorId") {
			t.Fatalf("second session of one creator: %v", err)
		}
	})
}

func TestASocketThatStopsAnsweringPingsIsDropped(t *testing.T) {
	e := newEnv(t)
	// The pong timeout runs on real time (a fake clock jump says nothing
	// about a real peer), so keep it short here; the healthy Go SDK
	// answers in milliseconds.
	e.cfg.SDKPingTimeout = time.Second
	e.restart()
	g := e.startReady("")
	r := e.dialRaw(t, "proc-deaf", "/")
	r.send(`{"Action":"ActivateServerProcess","RequestId":"ready","Port":7001}`)
	r.read() // from now on this client reads nothing, so it answers no ping
	e.advance(sdk.PingInterval)
	// Both sockets are pinged; the Go SDK answers, the deaf client does not.
	e.waitFor("only the deaf socket's ping to be pending", func() bool {
		pending, rounds := e.srv.Hosting.SDK.PingsInFlight()
		return rounds == 1 && pending == 1
	})
	e.waitFor("the deaf socket to be dropped", func() bool { return !e.srv.Hosting.SDK.Connected("proc-deaf") })
	if !e.srv.Hosting.SDK.Connected(g.ID) || e.srv.Hosting.SDK.Connections(g.ID) != 1 {
		t.Fatal("the Go SDK process, which answers pings, lost its socket")
	}
}

// The C++ SDK re-sends a call unanswered for 20 s, also on a new connection.
// When the control plane restarted in between, its in-memory answers are
// gone; the calls must still be answered as the first time and change
// nothing again.
func TestCallsResentAfterTheControlPlaneRestartsApplyOnce(t *testing.T) {
	t.Parallel() // waits on the Go server SDK's own real-time timers
	e := newEnv(t)
	ctx := context.Background()
	pid := "cpp-process-restart"
	r := e.dialRaw(t, pid, "/")
	r.send(`{"Action":"ActivateServerProcess","RequestId":"ready","SdkVersion":"5.4.0","SdkLanguage":"Cpp","Port":7001,"LogPaths":[]}`)
	if m := r.read(); m["StatusCode"] != float64(200) {
		t.Fatalf("ActivateServerProcess %v", m)
	}
	if _, err := e.gl.CreateMatchmakingRuleSet(ctx, &gl.CreateMatchmakingRuleSetInput{Name: aws.String("duel"), RuleSetBody: aws.String(backfillRules)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gl.CreateMatchmakingConfiguration(ctx, &gl.CreateMatchmakingConfigurationInput{Name: aws.String("cfg"), RuleSetName: aws.String("duel"),
		RequestTimeoutSeconds: aws.Int32(60), AcceptanceRequired: aws.Bool(false), FlexMatchMode: types.FlexMatchModeStandalone}); err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(e.createGameSession("resent", 4).GameSessionId)
	if push := r.read(); push["Action"] != "CreateGameSession" {
		t.Fatalf("push %v", push)
	}
	activate := `{"Action":"ActivateGameSession","RequestId":"act-1","GameSessionId":"` + id + `"}`
	r.send(activate)
	if m := r.read(); m["StatusCode"] != float64(200) {
		t.Fatalf("ActivateGameSession %v", m)
	}
	ps := e.reserve(id, "p1", "p2")
	calls := map[string]string{
		"accept":   `{"Action":"AcceptPlayerSession","RequestId":"acc-1","GameSessionId":"` + id + `","PlayerSessionId":"` + ps[0] + `"}`,
		"remove":   `{"Action":"RemovePlayerSession","RequestId":"rm-1","GameSessionId":"` + id + `","PlayerSessionId":"` + ps[1] + `"}`,
		"activate": activate,
		"backfill": `{"Action":"StartMatchBackfill","RequestId":"bf-1","GameSessionArn":"` + id + `","MatchmakingConfigurationArn":"arn:aws:gamelift:mu-local-1:000000000000:matchmakingconfiguration/cfg","Players":[{"PlayerId":"p1","Team":"red"}]}`,
	}
	order := []string{"activate", "accept", "remove", "backfill"}
	first := map[string]map[string]any{"activate": {"StatusCode": float64(200), "RequestId": "act-1"}}
	for _, name := range order[1:] {
		r.send(calls[name])
		if first[name] = r.read(); first[name]["StatusCode"] != float64(200) {
			t.Fatalf("%s: %v", name, first[name])
		}
	}
	ticket, _ := first["backfill"]["TicketId"].(string)
	stop := `{"Action":"StopMatchBackfill","RequestId":"stop-1","GameSessionArn":"` + id + `","MatchmakingConfigurationArn":"arn:aws:gamelift:mu-local-1:000000000000:matchmakingconfiguration/cfg","TicketId":"` + ticket + `"}`

	e.restart()
	r2 := e.dialRaw(t, pid, "/")
	for _, name := range order {
		r2.send(calls[name])
		if m := r2.read(); m["StatusCode"] != float64(200) || m["RequestId"] != first[name]["RequestId"] || m["TicketId"] != first[name]["TicketId"] {
			t.Fatalf("%s re-sent after the restart: %v, first answer %v", name, m, first[name])
		}
	}
	r2.send(stop)
	if m := r2.read(); m["StatusCode"] != float64(200) {
		t.Fatalf("StopMatchBackfill: %v", m)
	}
	e.restart()
	r3 := e.dialRaw(t, pid, "/")
	// A push the store kept for the process (the backfill's end) may reach
	// the new socket first: this test is about the answers.
	answer := func() map[string]any {
		for {
			if m := r3.read(); m["Action"] != "UpdateGameSession" {
				return m
			}
		}
	}
	r3.send(stop)
	if m := answer(); m["StatusCode"] != float64(200) {
		t.Fatalf("StopMatchBackfill re-sent after the restart: %v", m)
	}

	t.Run("each call was applied once", func(t *testing.T) {
		r3.send(strings.Replace(calls["accept"], "acc-1", "acc-2", 1))
		if m := answer(); m["StatusCode"] != float64(400) || !strings.Contains(m["ErrorMessage"].(string), "not RESERVED") {
			t.Fatalf("a new AcceptPlayerSession of the accepted player: %v", m)
		}
		if st := e.playerSession(ps[1]).Status; st != types.PlayerSessionStatusCompleted {
			t.Fatalf("removed player session %s", st)
		}
		out, err := e.gl.DescribeMatchmaking(ctx, &gl.DescribeMatchmakingInput{TicketIds: []string{ticket}})
		if err != nil || len(out.TicketList) != 1 || out.TicketList[0].Status != types.MatchmakingConfigurationStatusCancelled {
			t.Fatalf("the backfill ticket: %+v, %v", out, err)
		}
		if n := aws.ToInt32(e.gameSession(id).CurrentPlayerSessionCount); n != 1 {
			t.Fatalf("CurrentPlayerSessionCount %d, want 1 (p1)", n)
		}
	})
}

// TestAGameSessionPushedToASocketThatDiesIsPushedAgain: the SDK reads a
// replaced socket on for a few seconds, but a push written into one that
// dropped is lost with it. A process whose game session is still
// ACTIVATING when it reconnects gets the session again on the new socket.
func TestAGameSessionPushedToASocketThatDiesIsPushedAgain(t *testing.T) {
	t.Parallel() // waits on the Go server SDK's own real-time timers
	e := newEnv(t)
	g := e.startReady("", "GS_NO_ACTIVATE=1")
	id := aws.ToString(e.createGameSession("again", 4).GameSessionId)
	g.Wait("event", "start")
	if !e.srv.Hosting.SDK.DropConnection(g.ID) {
		t.Fatal("no connection to drop")
	}
	e.waitFor("the process to reconnect", func() bool {
		return e.srv.Hosting.SDK.Connections(g.ID) == 2 && e.srv.Hosting.SDK.Connected(g.ID)
	})
	g.Wait("event", "start") // the same game session, pushed again
	if st := e.gameSession(id).Status; st != types.GameSessionStatusActivating {
		t.Fatalf("status %s, want ACTIVATING until the game activates", st)
	}
}

// TestATerminateProcessPushedToASocketThatDiesIsPushedAgain: likewise a
// process told to end, which reconnects before it has, is told again.
func TestATerminateProcessPushedToASocketThatDiesIsPushedAgain(t *testing.T) {
	t.Parallel() // waits on the Go server SDK's own real-time timers
	e := newEnv(t)
	g := e.startReady("")
	id := e.activeSession(g, "ending", 2)
	if _, err := e.gl.TerminateGameSession(context.Background(), &gl.TerminateGameSessionInput{GameSessionId: aws.String(id),
		TerminationMode: types.TerminationModeTriggerOnProcessTerminate}); err != nil {
		t.Fatal(err)
	}
	g.Wait("event", "terminate")
	if !e.srv.Hosting.SDK.DropConnection(g.ID) {
		t.Fatal("no connection to drop")
	}
	e.waitFor("the process to reconnect", func() bool {
		return e.srv.Hosting.SDK.Connections(g.ID) == 2 && e.srv.Hosting.SDK.Connected(g.ID)
	})
	g.Wait("event", "terminate")
}

// An UpdateGameSession written into a socket that died silently (the write
// succeeds into a buffer nobody reads) is not lost: the ping that follows
// it gets no pong, the socket is dropped, and the process's next socket
// gets the update from the store.
func TestAnUpdateWrittenToASilentlyDeadSocketReachesTheNextOne(t *testing.T) {
	e := newEnv(t)
	// The pong timeout runs on real time; keep it short here.
	e.cfg.SDKPingTimeout = time.Second
	e.restart()
	pid := "proc-silent"
	r := e.dialRaw(t, pid, "/")
	r.send(`{"Action":"ActivateServerProcess","RequestId":"ready","SdkVersion":"5.4.0","SdkLanguage":"Cpp","Port":7001,"LogPaths":[]}`)
	if m := r.read(); m["StatusCode"] != float64(200) {
		t.Fatalf("ActivateServerProcess %v", m)
	}
	r.send(`{"Action":"HeartbeatServerProcess","RequestId":"hb-1","HealthStatus":true}`) // ends the activation's hold on pushes
	r.read()
	id := aws.ToString(e.createGameSession("silent", 4).GameSessionId)
	if push := r.read(); push["Action"] != "CreateGameSession" {
		t.Fatalf("push %v", push)
	}
	r.send(`{"Action":"ActivateGameSession","RequestId":"act-1","GameSessionId":"` + id + `"}`)
	if m := r.read(); m["StatusCode"] != float64(200) {
		t.Fatalf("ActivateGameSession %v", m)
	}
	// From here r reads nothing: its peer is gone, as far as the server
	// can tell, but writes to it still succeed.
	if err := e.srv.Hosting.Sessions.UpdateMatchmakerData(context.Background(), id, `{"matchId":"m2","teams":[]}`, "MATCHMAKING_DATA_UPDATED", "backfill-1"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the silent socket to be dropped", func() bool { return !e.srv.Hosting.SDK.Connected(pid) })
	r2 := e.dialRaw(t, pid, "/")
	if m := r2.read(); m["Action"] != "UpdateGameSession" || m["BackfillTicketId"] != "backfill-1" {
		t.Fatalf("the next socket's first message %v, want the UpdateGameSession the dead one swallowed", m)
	}
}
