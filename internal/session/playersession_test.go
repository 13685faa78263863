package session_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/session"
)

func TestCreatePlayerSessionsNamesEveryBadMember(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(4)
	long := strings.Repeat("d", 2049)
	t.Run("CreatePlayerSession", func(t *testing.T) {
		_, err := e.sessions.CreatePlayerSession(e.ctx, &gamelift.CreatePlayerSessionInput{PlayerData: long})
		wantFields(t, err, "GameSessionId", "PlayerId", "PlayerData")
	})
	tests := []struct {
		name   string
		in     gamelift.CreatePlayerSessionsInput
		fields []string
	}{
		{"no players", gamelift.CreatePlayerSessionsInput{GameSessionId: g.GameSessionId}, []string{"PlayerIds"}},
		{"26 players", gamelift.CreatePlayerSessionsInput{GameSessionId: g.GameSessionId, PlayerIds: players(26)}, []string{"PlayerIds"}},
		{"an empty player id and long player data", gamelift.CreatePlayerSessionsInput{GameSessionId: g.GameSessionId, PlayerIds: []string{"p1", ""},
			PlayerDataMap: map[string]string{"p1": long}}, []string{"PlayerIds[1]", "PlayerDataMap.p1"}},
	}
	for _, tt := range tests {
		t.Run("CreatePlayerSessions with "+tt.name, func(t *testing.T) {
			_, err := e.sessions.CreatePlayerSessions(e.ctx, &tt.in)
			wantFields(t, err, tt.fields...)
		})
	}
}

func TestAPlayerSessionIsReservedThenAcceptedOnce(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(4)
	pid := e.processOf(g)
	out, err := e.sessions.CreatePlayerSession(e.ctx, &gamelift.CreatePlayerSessionInput{GameSessionId: g.GameSessionId, PlayerId: "player-1", PlayerData: "skin=red"})
	if err != nil {
		t.Fatal(err)
	}
	p := *out.PlayerSession
	t.Run("the reservation is RESERVED, unguessable, and says where to connect", func(t *testing.T) {
		if !regexp.MustCompile(`^psess-[0-9a-f]{32}$`).MatchString(p.PlayerSessionId) {
			t.Fatalf("player session id %q is not psess- and 32 hex digits", p.PlayerSessionId)
		}
		if p.Status != gamelift.PlayerSessionReserved || p.GameSessionId != g.GameSessionId || p.FleetId != e.fleetID || p.IpAddress != "10.0.0.7" ||
			p.Port == nil || *p.Port != *g.Port || p.PlayerData != "skin=red" || p.TerminationTime != nil {
			t.Fatalf("player session %+v", p)
		}
		if n := *e.describe(g.GameSessionId).CurrentPlayerSessionCount; n != 1 {
			t.Fatalf("CurrentPlayerSessionCount %d, want 1", n)
		}
	})
	t.Run("another process may not accept it", func(t *testing.T) {
		other := e.process()
		err := e.sessions.AcceptPlayerSession(e.ctx, other, g.GameSessionId, p.PlayerSessionId, "req-0")
		wantFault(t, err, fault.Forbidden, "not hosted by this process")
	})
	t.Run("it is not a player session of another game session", func(t *testing.T) {
		other := e.arns.GameSession(e.fleetID, e.location, "gsess-other")
		wantFault(t, e.sessions.AcceptPlayerSession(e.ctx, pid, other, p.PlayerSessionId, "req-0"), fault.NotFound)
	})
	t.Run("an unknown id is not found", func(t *testing.T) {
		wantFault(t, e.sessions.AcceptPlayerSession(e.ctx, pid, g.GameSessionId, "psess-00000000000000000000000000000000", "req-0"), fault.NotFound)
	})
	t.Run("the hosting process accepts it: ACTIVE", func(t *testing.T) {
		if err := e.sessions.AcceptPlayerSession(e.ctx, pid, g.GameSessionId, p.PlayerSessionId, "req-1"); err != nil {
			t.Fatal(err)
		}
		if got := e.player(p.PlayerSessionId).Status; got != gamelift.PlayerSessionActive {
			t.Fatalf("status %s, want ACTIVE", got)
		}
	})
	t.Run("the same call re-sent succeeds as the first did", func(t *testing.T) {
		if err := e.sessions.AcceptPlayerSession(e.ctx, pid, g.GameSessionId, p.PlayerSessionId, "req-1"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a second accept is refused", func(t *testing.T) {
		err := e.sessions.AcceptPlayerSession(e.ctx, pid, g.GameSessionId, p.PlayerSessionId, "req-2")
		wantFault(t, err, fault.InvalidGameSessionStatus, "ACTIVE, not RESERVED")
	})
	t.Run("an accepted player never times out", func(t *testing.T) {
		e.clk.Advance(session.DefaultReservationTimeout + time.Minute)
		if got := e.player(p.PlayerSessionId).Status; got != gamelift.PlayerSessionActive {
			t.Fatalf("status %s, want ACTIVE", got)
		}
	})
}

func TestAReservationTimesOutAfterSixtySeconds(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(2)
	pid := e.processOf(g)
	ps := e.reserve(g.GameSessionId, "player-1", "player-2")
	e.clk.Advance(session.DefaultReservationTimeout - time.Second)
	t.Run("at 59 s it is still RESERVED and holds its slot", func(t *testing.T) {
		if got := e.player(ps[0].PlayerSessionId).Status; got != gamelift.PlayerSessionReserved {
			t.Fatalf("status %s, want RESERVED", got)
		}
		_, err := e.sessions.CreatePlayerSession(e.ctx, &gamelift.CreatePlayerSessionInput{GameSessionId: g.GameSessionId, PlayerId: "player-3"})
		wantFault(t, err, fault.GameSessionFull)
	})
	e.clk.Advance(time.Second)
	t.Run("at 60 s it is TIMEDOUT, ended at the deadline", func(t *testing.T) {
		p := e.player(ps[0].PlayerSessionId)
		if p.Status != gamelift.PlayerSessionTimedOut || p.TerminationTime == nil {
			t.Fatalf("status %s ended %v, want TIMEDOUT with a time", p.Status, p.TerminationTime)
		}
		if n := *e.describe(g.GameSessionId).CurrentPlayerSessionCount; n != 0 {
			t.Fatalf("CurrentPlayerSessionCount %d, want 0", n)
		}
	})
	t.Run("it can no longer be accepted", func(t *testing.T) {
		err := e.sessions.AcceptPlayerSession(e.ctx, pid, g.GameSessionId, ps[0].PlayerSessionId, "req-1")
		wantFault(t, err, fault.InvalidGameSessionStatus, "TIMEDOUT")
	})
	t.Run("nor removed", func(t *testing.T) {
		err := e.sessions.RemovePlayerSession(e.ctx, pid, g.GameSessionId, ps[1].PlayerSessionId, "req-2")
		wantFault(t, err, fault.InvalidGameSessionStatus, "TIMEDOUT")
	})
	t.Run("its slot is free again", func(t *testing.T) {
		e.reserve(g.GameSessionId, "player-3", "player-4")
	})
}

func TestARemovedPlayerSessionIsCompleted(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(1)
	pid := e.processOf(g)
	p := e.reserve(g.GameSessionId, "player-1")[0]
	if err := e.sessions.AcceptPlayerSession(e.ctx, pid, g.GameSessionId, p.PlayerSessionId, "req-1"); err != nil {
		t.Fatal(err)
	}
	t.Run("another process may not remove it", func(t *testing.T) {
		err := e.sessions.RemovePlayerSession(e.ctx, e.process(), g.GameSessionId, p.PlayerSessionId, "req-2")
		wantFault(t, err, fault.Forbidden)
	})
	t.Run("removing it completes it and frees its slot", func(t *testing.T) {
		if err := e.sessions.RemovePlayerSession(e.ctx, pid, g.GameSessionId, p.PlayerSessionId, "req-2"); err != nil {
			t.Fatal(err)
		}
		got := e.player(p.PlayerSessionId)
		if got.Status != gamelift.PlayerSessionCompleted || got.TerminationTime == nil {
			t.Fatalf("status %s ended %v, want COMPLETED with a time", got.Status, got.TerminationTime)
		}
		e.reserve(g.GameSessionId, "player-2")
	})
	t.Run("the same call re-sent succeeds; another remove is refused", func(t *testing.T) {
		if err := e.sessions.RemovePlayerSession(e.ctx, pid, g.GameSessionId, p.PlayerSessionId, "req-2"); err != nil {
			t.Fatal(err)
		}
		err := e.sessions.RemovePlayerSession(e.ctx, pid, g.GameSessionId, p.PlayerSessionId, "req-3")
		wantFault(t, err, fault.InvalidGameSessionStatus, "COMPLETED")
	})
}

func TestPlayerSessionsNeedAnActiveSessionThatAcceptsPlayers(t *testing.T) {
	e := newEnv(t, nil)
	e.process()
	activating := e.create(4)
	t.Run("an ACTIVATING game session takes no players yet", func(t *testing.T) {
		_, err := e.sessions.CreatePlayerSession(e.ctx, &gamelift.CreatePlayerSessionInput{GameSessionId: activating.GameSessionId, PlayerId: "p1"})
		wantFault(t, err, fault.InvalidGameSessionStatus, "ACTIVATING")
	})
	t.Run("an unknown game session is not found", func(t *testing.T) {
		_, err := e.sessions.CreatePlayerSession(e.ctx, &gamelift.CreatePlayerSessionInput{GameSessionId: e.arns.GameSession(e.fleetID, e.location, "nope"), PlayerId: "p1"})
		wantFault(t, err, fault.NotFound)
	})
	g := e.active(3)
	pid := e.processOf(g)
	t.Run("players that do not all fit are refused, all of them", func(t *testing.T) {
		e.reserve(g.GameSessionId, "p1")
		_, err := e.sessions.CreatePlayerSessions(e.ctx, &gamelift.CreatePlayerSessionsInput{GameSessionId: g.GameSessionId, PlayerIds: []string{"p2", "p3", "p4"}})
		wantFault(t, err, fault.GameSessionFull, "1 of 3 player slots taken")
		out, err := e.sessions.DescribePlayerSessionsOp(e.ctx, &gamelift.DescribePlayerSessionsInput{GameSessionId: g.GameSessionId})
		if err != nil || len(out.PlayerSessions) != 1 {
			t.Fatalf("player sessions %+v, %v; want only p1's", out, err)
		}
	})
	t.Run("DENY_ALL from UpdateGameSession stops new reservations", func(t *testing.T) {
		if _, err := e.sessions.UpdateGameSession(e.ctx, &gamelift.UpdateGameSessionInput{GameSessionId: g.GameSessionId, PlayerSessionCreationPolicy: gamelift.DenyAll}); err != nil {
			t.Fatal(err)
		}
		_, err := e.sessions.CreatePlayerSession(e.ctx, &gamelift.CreatePlayerSessionInput{GameSessionId: g.GameSessionId, PlayerId: "p2"})
		wantFault(t, err, fault.InvalidGameSessionStatus, "DENY_ALL")
	})
	t.Run("the server opens it again with ACCEPT_ALL", func(t *testing.T) {
		if err := e.sessions.SetPlayerSessionCreationPolicy(e.ctx, pid, g.GameSessionId, gamelift.AcceptAll); err != nil {
			t.Fatal(err)
		}
		e.reserve(g.GameSessionId, "p2")
	})
	t.Run("the server closes it with DENY_ALL", func(t *testing.T) {
		if err := e.sessions.SetPlayerSessionCreationPolicy(e.ctx, pid, g.GameSessionId, gamelift.DenyAll); err != nil {
			t.Fatal(err)
		}
		if got := e.describe(g.GameSessionId).PlayerSessionCreationPolicy; got != gamelift.DenyAll {
			t.Fatalf("policy %s, want DENY_ALL", got)
		}
	})
	t.Run("the server's policy must be ACCEPT_ALL or DENY_ALL, for its own session", func(t *testing.T) {
		wantFault(t, e.sessions.SetPlayerSessionCreationPolicy(e.ctx, pid, g.GameSessionId, "SOME"), fault.Invalid, "PlayerSessionPolicy")
		wantFault(t, e.sessions.SetPlayerSessionCreationPolicy(e.ctx, e.process(), g.GameSessionId, gamelift.AcceptAll), fault.Forbidden)
	})
}

// players returns n player ids.
func players(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("player-%d", i+1)
	}
	return out
}
