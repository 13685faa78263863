package matchmaking_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
)

const squadRules = `{
  "ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 2}, {"name": "blue", "minPlayers": 1, "maxPlayers": 2}],
  "rules": [{"name": "FairSkill", "type": "distance",
             "measurements": "max(flatten(teams[*].players.attributes[skill]))",
             "referenceValue": "min(flatten(teams[*].players.attributes[skill]))",
             "maxDistance": 50}]
}`

// fakePlacer records placements; with refuse set it refuses them as the
// placement service does a bad request (before writing anything).
type fakePlacer struct {
	mu     sync.Mutex
	reqs   []matchmaking.PlacementRequest
	refuse error
}

func (f *fakePlacer) StartIn(_ context.Context, _ store.Writer, req matchmaking.PlacementRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil {
		return f.refuse
	}
	f.reqs = append(f.reqs, req)
	return nil
}

func (f *fakePlacer) last() matchmaking.PlacementRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reqs[len(f.reqs)-1]
}

// fakeSessions is one game session's player sessions.
type fakeSessions struct {
	mu       sync.Mutex
	sessions []session.PlayerSession
	updates  []string // reason|ticket|data
}

func (f *fakeSessions) DescribePlayerSessions(_ context.Context, q session.PlayerQuery) ([]session.PlayerSession, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]session.PlayerSession(nil), f.sessions...), "", nil
}

func (f *fakeSessions) ReservePlayerSessions(_ context.Context, gs string, players []session.DesiredPlayer) ([]session.PlayerSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []session.PlayerSession
	for _, p := range players {
		ps := session.PlayerSession{ID: "psess-" + p.PlayerID, PlayerID: p.PlayerID, GameSessionID: gs, Status: gamelift.PlayerSessionReserved, IPAddress: "10.0.0.5", Port: 7777}
		f.sessions = append(f.sessions, ps)
		out = append(out, ps)
	}
	return out, nil
}

func (f *fakeSessions) UpdateMatchmakerData(_ context.Context, gs, data, reason, ticket string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, reason+"|"+ticket+"|"+data)
	return nil
}

func (f *fakeSessions) leave(player string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.sessions {
		if f.sessions[i].PlayerID == player {
			f.sessions[i].Status = gamelift.PlayerSessionCompleted
		}
	}
}

// waitUpdate waits for the game server push (it runs on its own goroutine
// after commit) whose text starts with prefix.
func (f *fakeSessions) waitUpdate(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if u := f.lastUpdate(); strings.HasPrefix(u, prefix) {
			return u
		}
		if time.Now().After(deadline) {
			t.Fatalf("no push %q; last %q", prefix, f.lastUpdate())
		}
		time.Sleep(time.Millisecond)
	}
}

func (f *fakeSessions) lastUpdate() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.updates) == 0 {
		return ""
	}
	return f.updates[len(f.updates)-1]
}

func newQueueEnv(t *testing.T, placer *fakePlacer, sessions *fakeSessions) *env {
	t.Helper()
	e := &env{t: t, clock: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), dir: t.TempDir()}
	e.ctx = withOperator(t)
	db, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(e.dir, "m.db"), Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.db = db
	e.svc = matchmaking.New(matchmaking.Config{Store: db, Clock: e.clock, ARNs: gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"},
		Placer: placer, Sessions: sessions})
	ctx, cancel := context.WithCancel(t.Context())
	if err := e.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); e.svc.Stop(); db.Close() })
	if _, err := e.svc.CreateMatchmakingRuleSet(e.ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: "squad", RuleSetBody: squadRules}); err != nil {
		t.Fatal(err)
	}
	to, no := int32(60), false
	if _, err := e.svc.CreateMatchmakingConfiguration(e.ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: "q", RuleSetName: "squad",
		RequestTimeoutSeconds: &to, AcceptanceRequired: &no, BackfillMode: "AUTOMATIC",
		GameSessionQueueArns: []string{"arn:aws:gamelift:mu-local-1:000000000000:gamesessionqueue/main"}}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) placementEnded(res matchmaking.PlacementResult) {
	e.t.Helper()
	if err := e.db.Update(e.ctx, func(w store.Writer) error { return e.svc.PlacementEnded(e.ctx, w, res) }); err != nil {
		e.t.Fatal(err)
	}
}

func TestWithQueueAndAutomaticBackfill(t *testing.T) {
	placer, sessions := &fakePlacer{}, &fakeSessions{}
	e := newQueueEnv(t, placer, sessions)
	const gs = "arn:aws:gamelift:mu-local-1::gamesession/fleet-1/custom-home/gs-1"
	var matchID string
	t.Run("a match goes to PLACING with a placement request", func(t *testing.T) {
		e.start("q", "a", "pa", 1000)
		e.start("q", "b", "pb", 1000)
		e.settle("q")
		a := e.ticket("a")
		if a.Status != gamelift.TicketPlacing {
			t.Fatal(a.Status)
		}
		req := placer.last()
		matchID = req.PlacementID
		if req.QueueName != "arn:aws:gamelift:mu-local-1:000000000000:gamesessionqueue/main" || req.MaximumPlayerSessionCount != 4 || len(req.DesiredPlayerSessions) != 2 {
			t.Fatalf("%+v", req)
		}
		if !strings.Contains(req.MatchmakerData, `"matchId":"`+matchID+`"`) || !strings.Contains(req.MatchmakerData, `"autoBackfillTicketId":"auto-backfill-`+matchID+`"`) ||
			!strings.Contains(req.MatchmakerData, `"skill":{"attributeType":"DOUBLE","valueAttribute":1000.0}`) {
			t.Fatal(req.MatchmakerData)
		}
	})
	t.Run("a fulfilled placement completes the tickets with connection info and starts automatic backfill", func(t *testing.T) {
		sessions.ReservePlayerSessions(e.ctx, gs, []session.DesiredPlayer{{PlayerID: "pa"}, {PlayerID: "pb"}})
		e.placementEnded(matchmaking.PlacementResult{PlacementID: matchID, Status: "FULFILLED", GameSessionArn: gs, IpAddress: "10.0.0.5", Port: 7777,
			PlayerSessions: []gamelift.MatchedPlayerSession{{PlayerId: "pa", PlayerSessionId: "psess-pa"}, {PlayerId: "pb", PlayerSessionId: "psess-pb"}}})
		a := e.ticket("a")
		ci := a.GameSessionConnectionInfo
		if a.Status != gamelift.TicketCompleted || ci == nil || ci.GameSessionArn != gs || *ci.Port != 7777 || ci.MatchedPlayerSessions[0].PlayerSessionId != "psess-pa" {
			t.Fatalf("%+v", a)
		}
		ev := e.events(matchmaking.EventSucceeded)
		if len(ev) != 1 || ev[0].Detail.GameSessionInfo.GameSessionArn != gs || ev[0].Detail.Tickets[0].Players[0].PlayerSessionID == "" {
			t.Fatalf("%+v", ev)
		}
		e.settle("q")
		auto := e.ticket("auto-backfill-" + matchID)
		if auto.Status != gamelift.TicketSearching || len(auto.Players) != 2 || auto.GameSessionConnectionInfo.GameSessionArn != gs {
			t.Fatalf("%+v", auto)
		}
	})
	t.Run("a player who left is not part of the next backfill; a new player fills the slot", func(t *testing.T) {
		e.start("q", "c", "pc", 1010)
		e.settle("q")
		e.waitStatus("c", gamelift.TicketCompleted)
		if c := e.ticket("c"); c.GameSessionConnectionInfo == nil || c.GameSessionConnectionInfo.MatchedPlayerSessions[0].PlayerSessionId != "psess-pc" {
			t.Fatalf("%+v", c.GameSessionConnectionInfo)
		}
		u := sessions.waitUpdate(t, "MATCHMAKING_DATA_UPDATED|auto-backfill-"+matchID+"|")
		if !strings.Contains(u, `"playerId":"pc"`) {
			t.Fatal(u)
		}
		// The next automatic ticket follows the match (3 of 4 slots).
		if !strings.Contains(u, `"autoBackfillTicketId":"auto-backfill-`) {
			t.Fatal(u)
		}
		sessions.leave("pb")
		ticketID, err := e.svc.Backfiller().StartMatchBackfill(e.ctx, session.BackfillRequest{GameSessionArn: gs,
			MatchmakingConfigurationArn: "arn:aws:gamelift:mu-local-1:000000000000:matchmakingconfiguration/q", TicketID: "manual-1",
			Players: []session.BackfillPlayer{{PlayerId: "pa", Team: "red"}, {PlayerId: "pb", Team: "blue"}, {PlayerId: "pc", Team: "blue"}}})
		if err != nil {
			t.Fatal(err)
		}
		m := e.ticket(ticketID)
		for _, p := range m.Players {
			if p.PlayerId == "pb" {
				t.Fatal("the departed player is in the backfill request")
			}
		}
		if len(m.Players) != 2 {
			t.Fatalf("%+v", m.Players)
		}
		if err := e.svc.Backfiller().StopMatchBackfill(e.ctx, gs, "", ticketID); err != nil {
			t.Fatal(err)
		}
		if got := e.ticket(ticketID).Status; got != gamelift.TicketCancelled {
			t.Fatal(got)
		}
		sessions.waitUpdate(t, "BACKFILL_CANCELLED|manual-1|")
	})
	t.Run("a failed placement fails the tickets", func(t *testing.T) {
		e.start("q", "x", "px", 5000)
		e.start("q", "y", "py", 5000)
		e.settle("q")
		e.waitStatus("x", gamelift.TicketPlacing)
		e.placementEnded(matchmaking.PlacementResult{PlacementID: placer.last().PlacementID, Status: "FAILED"})
		if x := e.ticket("x"); x.Status != gamelift.TicketFailed || x.StatusReason != matchmaking.ReasonUnexpected {
			t.Fatal(x.Status, x.StatusReason)
		}
		if len(e.events(matchmaking.EventFailed)) == 0 {
			t.Fatal("no MatchmakingFailed event")
		}
	})
}

func TestWithQueueWithoutPlacementFailsClearly(t *testing.T) {
	e := newQueueEnv(t, nil, nil)
	e.svc.SetPlacer(nil)
	e.start("q", "a", "pa", 1000)
	e.start("q", "b", "pb", 1000)
	e.settle("q")
	a := e.ticket("a")
	if a.Status != gamelift.TicketFailed || !strings.Contains(a.StatusMessage, "placement") {
		t.Fatal(a.Status, a.StatusMessage)
	}
}

func TestARefusedPlacementFailsOnlyThatMatch(t *testing.T) {
	placer := &fakePlacer{refuse: fault.New(fault.NotFound, "GameSessionQueueName: queue main not found")}
	e := newQueueEnv(t, placer, nil)
	e.start("q", "a", "pa", 1000)
	e.start("q", "b", "pb", 1000)
	e.settle("q")
	for _, id := range []string{"a", "b"} {
		tk := e.ticket(id)
		if tk.Status != gamelift.TicketFailed || tk.StatusReason != matchmaking.ReasonUnexpected || !strings.Contains(tk.StatusMessage, "queue main not found") {
			t.Fatalf("ticket %s: %s %s %q", id, tk.Status, tk.StatusReason, tk.StatusMessage)
		}
	}
	// The pool keeps working: the players are free again and new tickets match.
	placer.mu.Lock()
	placer.refuse = nil
	placer.mu.Unlock()
	e.start("q", "c", "pa", 1000)
	e.start("q", "d", "pb", 1000)
	e.settle("q")
	if c := e.ticket("c"); c.Status != gamelift.TicketPlacing {
		t.Fatalf("a later match: ticket c is %s", c.Status)
	}
}
