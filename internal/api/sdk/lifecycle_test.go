package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/testenv"
)

// These tests run real game server processes built on the official Go
// server SDK v5.4.0 (testdata/gameserver) against the control plane, and
// drive the control plane with the real AWS SDK for Go v2 client (CBOR).

func TestAGameServerHostsAGameSessionAndValidatesItsPlayers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	g := e.startReady("")

	t.Run("ProcessReady makes the process idle and health checks arrive", func(t *testing.T) {
		e.waitFor("an idle process", func() bool {
			n, _ := e.srv.Hosting.Fleets.IdleProcessCount(ctx, e.fleetID, e.location)
			return n == 1
		})
		g.Wait("event", "health")
		g.Wait("event", "health")
	})

	gs := e.createGameSession("arena", 8, types.GameProperty{Key: aws.String("mode"), Value: aws.String("ctf")})
	id := aws.ToString(gs.GameSessionId)
	t.Run("CreateGameSession returns an ACTIVATING session with an ARN the SDK accepts", func(t *testing.T) {
		if gs.Status != types.GameSessionStatusActivating {
			t.Fatalf("status %s, want ACTIVATING", gs.Status)
		}
		want := "arn:aws:gamelift:mu-local-1::gamesession/" + e.fleetID + "/" + e.location + "/gsess-"
		if !strings.HasPrefix(id, want) {
			t.Fatalf("GameSessionId %s, want prefix %s", id, want)
		}
		if aws.ToString(gs.IpAddress) != "127.0.0.1" || aws.ToInt32(gs.Port) != 7777 {
			t.Fatalf("address %s:%d", aws.ToString(gs.IpAddress), aws.ToInt32(gs.Port))
		}
	})
	t.Run("the process gets OnStartGameSession and activates the session", func(t *testing.T) {
		start := g.Wait("event", "start")
		if start["gameSessionId"] != id || start["name"] != "arena" || start["max"] != float64(8) {
			t.Fatalf("OnStartGameSession got %v", start)
		}
		if props, _ := start["props"].(map[string]any); props["mode"] != "ctf" {
			t.Fatalf("game properties %v", start["props"])
		}
		if a := g.Wait("event", "activated"); a["err"] != "" {
			t.Fatalf("ActivateGameSession: %v", a["err"])
		}
		if st := e.gameSession(id).Status; st != types.GameSessionStatusActive {
			t.Fatalf("status %s, want ACTIVE", st)
		}
		if r := g.Call("gsid", nil); r["result"] != id {
			t.Fatalf("GetGameSessionID = %v", r["result"])
		}
	})

	ps, err := e.gl.CreatePlayerSessions(ctx, &gl.CreatePlayerSessionsInput{GameSessionId: aws.String(id),
		PlayerIds: []string{"alice", "bob", "carol"}, PlayerDataMap: map[string]string{"alice": "team=red"}})
	if err != nil {
		t.Fatal(err)
	}
	alice, bob, carol := aws.ToString(ps.PlayerSessions[0].PlayerSessionId), aws.ToString(ps.PlayerSessions[1].PlayerSessionId), aws.ToString(ps.PlayerSessions[2].PlayerSessionId)
	t.Run("player sessions are reserved with unguessable ids", func(t *testing.T) {
		for _, p := range ps.PlayerSessions {
			if p.Status != types.PlayerSessionStatusReserved || len(aws.ToString(p.PlayerSessionId)) != len("psess-")+32 {
				t.Fatalf("player session %+v", p)
			}
		}
		if aws.ToString(ps.PlayerSessions[0].PlayerData) != "team=red" {
			t.Fatalf("PlayerData %q", aws.ToString(ps.PlayerSessions[0].PlayerData))
		}
		if n := aws.ToInt32(e.gameSession(id).CurrentPlayerSessionCount); n != 3 {
			t.Fatalf("CurrentPlayerSessionCount %d, want 3", n)
		}
	})
	t.Run("a reserved player is accepted once", func(t *testing.T) {
		if err := g.CallErr("accept", alice); err != "" {
			t.Fatalf("AcceptPlayerSession: %s", err)
		}
		if st := e.playerSession(alice).Status; st != types.PlayerSessionStatusActive {
			t.Fatalf("status %s, want ACTIVE", st)
		}
		if err := g.CallErr("accept", alice); !strings.Contains(err, "not RESERVED") {
			t.Fatalf("second AcceptPlayerSession: %q, want a refusal", err)
		}
	})
	t.Run("a forged player session id is refused", func(t *testing.T) {
		if err := g.CallErr("accept", "psess-0123456789abcdef0123456789abcdef"); !strings.Contains(err, "Not found") {
			t.Fatalf("forged AcceptPlayerSession: %q", err)
		}
	})
	if err := g.CallErr("accept", bob); err != "" {
		t.Fatal(err)
	}
	t.Run("a reservation not accepted in 60 seconds times out", func(t *testing.T) {
		e.advance(61 * time.Second)
		if st := e.playerSession(carol).Status; st != types.PlayerSessionStatusTimedout {
			t.Fatalf("status %s, want TIMEDOUT", st)
		}
		if err := g.CallErr("accept", carol); !strings.Contains(err, "TIMEDOUT") {
			t.Fatalf("AcceptPlayerSession of a timed-out reservation: %q", err)
		}
		if n := aws.ToInt32(e.gameSession(id).CurrentPlayerSessionCount); n != 2 {
			t.Fatalf("CurrentPlayerSessionCount %d, want 2", n)
		}
	})
	t.Run("a removed player session is COMPLETED and cannot be removed again", func(t *testing.T) {
		if err := g.CallErr("remove", alice); err != "" {
			t.Fatal(err)
		}
		if st := e.playerSession(alice).Status; st != types.PlayerSessionStatusCompleted {
			t.Fatalf("status %s, want COMPLETED", st)
		}
		if err := g.CallErr("remove", alice); err == "" {
			t.Fatal("second RemovePlayerSession succeeded")
		}
	})
	t.Run("the server describes its player sessions", func(t *testing.T) {
		r := g.Call("describe", map[string]any{"status": "ACTIVE"})
		res, _ := r["result"].(map[string]any)
		list, _ := res["PlayerSessions"].([]any)
		if r["err"] != "" || len(list) != 1 || list[0].(map[string]any)["PlayerSessionId"] != bob {
			t.Fatalf("DescribePlayerSessions: %v", r)
		}
	})
	t.Run("DENY_ALL from the server stops new reservations", func(t *testing.T) {
		if r := g.Call("policy", map[string]any{"policy": "DENY_ALL"}); r["err"] != "" {
			t.Fatal(r["err"])
		}
		_, err := e.gl.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: aws.String(id), PlayerId: aws.String("dave")})
		var want *types.InvalidGameSessionStatusException
		if !errors.As(err, &want) {
			t.Fatalf("CreatePlayerSession under DENY_ALL: %v", err)
		}
	})
	t.Run("GetGameSessionLogUrl says where the log is", func(t *testing.T) {
		_, err := e.gl.GetGameSessionLogUrl(ctx, &gl.GetGameSessionLogUrlInput{GameSessionId: aws.String(id)})
		var nf *types.NotFoundException
		if !errors.As(err, &nf) || !strings.Contains(aws.ToString(nf.Message), g.ID+".log") || !strings.Contains(aws.ToString(nf.Message), e.compute) {
			t.Fatalf("GetGameSessionLogUrl: %v", err)
		}
	})
	t.Run("calls Muster cannot serve fail clearly", func(t *testing.T) {
		// (StartMatchBackfill goes to matchmaking, which knows no configuration "cfg".)
		for op, want := range map[string]string{"backfill": "matchmakingconfiguration/cfg", "role": "no IAM role", "cert": "CertificatePath"} {
			if r := g.Call(op, nil); !strings.Contains(r["err"].(string), want) {
				t.Errorf("%s: %q, want it to mention %q", op, r["err"], want)
			}
		}
	})
	t.Run("TerminateGameSession tells the process, and ProcessEnding ends the session", func(t *testing.T) {
		out, err := e.gl.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: aws.String(id), TerminationMode: types.TerminationModeTriggerOnProcessTerminate})
		if err != nil {
			t.Fatal(err)
		}
		if out.GameSession.Status != types.GameSessionStatusTerminating {
			t.Fatalf("status %s, want TERMINATING", out.GameSession.Status)
		}
		term := g.Wait("event", "terminate")
		if term["err"] != "" || term["time"].(float64) < float64(time.Now().Unix()) {
			t.Fatalf("OnProcessTerminate: %v", term)
		}
		if r := g.Call("end", nil); r["err"] != "" {
			t.Fatal(r["err"])
		}
		got := e.gameSession(id)
		if got.Status != types.GameSessionStatusTerminated || got.StatusReason != types.GameSessionStatusReasonTriggeredOnProcessTerminate {
			t.Fatalf("status %s/%s, want TERMINATED/TRIGGERED_ON_PROCESS_TERMINATE", got.Status, got.StatusReason)
		}
		if st := e.playerSession(bob).Status; st != types.PlayerSessionStatusCompleted {
			t.Fatalf("bob %s, want COMPLETED", st)
		}
	})
}

// TestTerminateGameSessionGivesTheGraceTheAgentReports checks, with the
// real Go server SDK, that a process whose game session is terminated
// (TRIGGER_ON_PROCESS_TERMINATE) is told the termination time its agent
// really allows — the drain grace the agent reports in its heartbeat, not
// five minutes — and that the next heartbeat answer says TERMINATING, which
// the agent stops once that grace has passed.
func TestTerminateGameSessionGivesTheGraceTheAgentReports(t *testing.T) {
	began := time.Now() // the fake clock starts at the real time and is not advanced here
	e := newEnv(t)
	g := e.startReady("")
	report := agentwire.Heartbeat{DrainGraceSeconds: 42, Processes: []agentwire.Process{{ProcessID: g.ID, PID: g.PID()}}}
	if code, _ := e.heartbeat(e.compute, report); code != 200 {
		t.Fatalf("heartbeat: %d", code)
	}
	id := e.activeSession(g, "ending", 2)
	if _, err := e.gl.TerminateGameSession(context.Background(), &gl.TerminateGameSessionInput{GameSessionId: aws.String(id),
		TerminationMode: types.TerminationModeTriggerOnProcessTerminate}); err != nil {
		t.Fatal(err)
	}
	ended := time.Now()
	term := g.Wait("event", "terminate")
	at, _ := term["time"].(float64) // GetTerminationTime: epoch seconds
	if lo, hi := began.Add(42*time.Second).Unix()-1, ended.Add(42*time.Second).Unix(); term["err"] != "" || int64(at) < lo || int64(at) > hi {
		t.Fatalf("GetTerminationTime %v (%v), want the agent's 42 s from now: %d to %d", int64(at), term["err"], lo, hi)
	}
	_, reply := e.heartbeat(e.compute, report)
	status := "not listed"
	for _, p := range reply.Processes {
		if p.ProcessID == g.ID {
			status = p.Status
		}
	}
	if status != agentwire.StatusTerminating {
		t.Fatalf("the heartbeat answer says the process is %s, want TERMINATING", status)
	}
}

// FORCE_TERMINATE ends the game session and its process at once, records
// SERVER_PROCESS_FORCE_TERMINATED, and the compute's next heartbeat answer
// tells its agent to kill the process (the agent side is in
// internal/agent's end-to-end test). As in GameLift, a compute without the
// agent refuses it.
func TestForceTerminateEndsTheProcessAndAsksItsAgentToKillIt(t *testing.T) {
	e, g, id := newEnvHosting(t, "doomed")
	ctx := context.Background()
	p := e.reserve(id, "alice")[0]
	t.Run("without the agent on the compute it is refused and changes nothing", func(t *testing.T) {
		_, err := e.gl.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: aws.String(id), TerminationMode: types.TerminationModeForceTerminate})
		var bad *types.InvalidRequestException
		if !errors.As(err, &bad) || !strings.Contains(aws.ToString(bad.Message), "agent") {
			t.Fatalf("FORCE_TERMINATE on a compute without the agent: %v", err)
		}
		if st := e.gameSession(id).Status; st != types.GameSessionStatusActive {
			t.Fatalf("game session %s after the refusal", st)
		}
	})
	e.agentHeartbeat(g) // the compute now runs the agent
	out, err := e.gl.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: aws.String(id), TerminationMode: types.TerminationModeForceTerminate})
	if err != nil {
		t.Fatal(err)
	}
	if gs := out.GameSession; gs.Status != types.GameSessionStatusTerminated || gs.StatusReason != types.GameSessionStatusReasonForceTerminated {
		t.Fatalf("game session %s/%s, want TERMINATED/FORCE_TERMINATED", gs.Status, gs.StatusReason)
	}
	if st := e.playerSession(p).Status; st != types.PlayerSessionStatusCompleted && st != types.PlayerSessionStatusTimedout {
		t.Fatalf("player session %s after the game ended", st)
	}
	ev, err := e.gl.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: aws.String(e.fleetID)})
	if err != nil {
		t.Fatal(err)
	}
	forced := false
	for _, x := range ev.Events {
		forced = forced || x.EventCode == types.EventCodeServerProcessForceTerminated && strings.Contains(aws.ToString(x.Message), g.ID)
	}
	if !forced {
		t.Fatal("no SERVER_PROCESS_FORCE_TERMINATED event for the process")
	}
	if got := e.agentHeartbeat(g); len(got) != 1 || got[g.ID] != "TERMINATED kill=true FORCE_TERMINATED" {
		t.Fatalf("heartbeat answer %q, want the process TERMINATED, to be killed, FORCE_TERMINATED", got)
	}
	if n, _ := e.srv.Hosting.Fleets.IdleProcessCount(ctx, e.fleetID, e.location); n != 0 {
		t.Fatalf("%d idle processes: the force-terminated process is offered again", n)
	}
}

// A process that fails three health checks in a row ends with its game
// session (SERVER_PROCESS_TERMINATED_UNHEALTHY), is told to terminate, and
// its agent is told to kill it; a healthy answer in between starts the
// count again.
func TestAProcessFailingThreeHealthChecksInARowIsTerminated(t *testing.T) {
	t.Parallel() // waits on the Go server SDK's own real-time timers
	e := newEnv(t)
	ctx := context.Background()
	sick := e.startReady("")
	e.waitFor("an idle process", func() bool {
		n, _ := e.srv.Hosting.Fleets.IdleProcessCount(ctx, e.fleetID, e.location)
		return n == 1
	})
	id := e.activeSession(sick, "sick", 4)
	flaky := e.startReady("")
	flaky.Call("health", map[string]any{"status": "fft"}) // never three failures in a row
	sick.Call("health", map[string]any{"status": "f"})
	e.waitFor("the sick process to end", func() bool { return e.gameSession(id).Status == types.GameSessionStatusTerminated })
	// The process itself is told, so that a game on a compute without an
	// agent to kill it ends too.
	sick.Wait("event", "terminate")
	// Without the reset the fourth failure would end the flaky process; once
	// its second healthy answer is given (a second after the one before),
	// the heartbeats of the failures before it have been answered.
	for _, answer := range []string{"f", "f", "t", "f", "f", "t"} {
		flaky.Wait("answer", answer)
	}
	got := e.agentHeartbeat(sick, flaky)
	if got[sick.ID] != "TERMINATED kill=true UNHEALTHY" {
		t.Fatalf("the sick process: %q, want TERMINATED, killed, UNHEALTHY", got[sick.ID])
	}
	if got[flaky.ID] != "ACTIVE kill=false " {
		t.Fatalf("the flaky process: %q, want ACTIVE", got[flaky.ID])
	}
	ev, err := e.gl.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: aws.String(e.fleetID)})
	if err != nil {
		t.Fatal(err)
	}
	var unhealthy []string
	for _, x := range ev.Events {
		if x.EventCode == types.EventCodeServerProcessTerminatedUnhealthy {
			unhealthy = append(unhealthy, aws.ToString(x.Message))
		}
	}
	if len(unhealthy) != 1 || !strings.Contains(unhealthy[0], sick.ID) || !strings.Contains(unhealthy[0], "3 health checks in a row") {
		t.Fatalf("SERVER_PROCESS_TERMINATED_UNHEALTHY events %q, want one for the sick process", unhealthy)
	}
}

// agentHeartbeat heartbeats the compute as muster agent would, reporting
// the game servers as its processes, and returns what the answer says of
// each process: "STATUS kill=BOOL ENDREASON".
func (e *env) agentHeartbeat(procs ...*testenv.SDKGameServer) map[string]string {
	e.t.Helper()
	hb := agentwire.Heartbeat{Processes: []agentwire.Process{}}
	for _, g := range procs {
		hb.Processes = append(hb.Processes, agentwire.Process{ProcessID: g.ID, PID: g.PID()})
	}
	code, reply := e.heartbeat(e.compute, hb)
	if code != 200 {
		e.t.Fatalf("heartbeat: %d", code)
	}
	got := map[string]string{}
	for _, p := range reply.Processes {
		got[p.ProcessID] = fmt.Sprintf("%s kill=%v %s", p.Status, p.Kill, p.EndReason)
	}
	return got
}

func TestAGameSessionPlacedBeforeTheProcessHasItsActivationAnswerStillReachesIt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	release := e.srv.Hosting.SDK.HoldActivationAnswers()
	g := e.startGameServer("")
	// ProcessReady has committed, so the process is idle and placeable, but
	// the SDK has not had its answer yet: it still sees itself inactive.
	e.waitFor("an idle process", func() bool {
		n, _ := e.srv.Hosting.Fleets.IdleProcessCount(ctx, e.fleetID, e.location)
		return n == 1
	})
	gs := e.createGameSession("early", 2)
	release()
	if r := g.Wait("event", "ready"); r["err"] != "" {
		t.Fatalf("ProcessReady: %v", r["err"])
	}
	if start := g.Wait("event", "start"); start["gameSessionId"] != aws.ToString(gs.GameSessionId) {
		t.Fatalf("OnStartGameSession got %v, want %s", start, aws.ToString(gs.GameSessionId))
	}
	if a := g.Wait("event", "activated"); a["err"] != "" {
		t.Fatalf("ActivateGameSession: %v", a["err"])
	}
}
