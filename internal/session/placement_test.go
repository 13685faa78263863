package session_test

import (
	"context"
	"errors"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

func TestCreateGameSessionOnReservesPlayersInTheSameTransaction(t *testing.T) {
	e := newEnv(t, nil)
	pid := e.process()
	g, ps := e.place(4, "p1", "p2")
	t.Run("the session is ACTIVATING on the process, with the players RESERVED in it", func(t *testing.T) {
		if g.Status != gamelift.GameSessionActivating || g.ProcessID != pid || g.FleetID != e.fleetID || g.Location != e.location {
			t.Fatalf("game session %+v", g)
		}
		if len(ps) != 2 {
			t.Fatalf("%d player sessions, want 2", len(ps))
		}
		for i, p := range ps {
			if p.Status != gamelift.PlayerSessionReserved || p.GameSessionID != g.ID || p.PlayerID != []string{"p1", "p2"}[i] ||
				p.PlayerData != "data-"+p.PlayerID || p.ProcessID != pid || p.Port != g.Port {
				t.Fatalf("player session %+v", p)
			}
			if got := e.player(p.ID).Status; got != gamelift.PlayerSessionReserved {
				t.Fatalf("stored player session %s is %s", p.ID, got)
			}
		}
		if n := *e.describe(g.ID).CurrentPlayerSessionCount; n != 2 {
			t.Fatalf("CurrentPlayerSessionCount %d, want 2", n)
		}
	})
	t.Run("the process is told to start it", func(t *testing.T) {
		if got := e.pushes.of("CreateGameSession"); len(got) != 1 || got[0].ProcessID != pid || got[0].GameSessionID != g.ID {
			t.Fatalf("pushes %+v", got)
		}
	})
	t.Run("the hosting process may accept its players before activating", func(t *testing.T) {
		if err := e.sessions.AcceptPlayerSession(e.ctx, pid, g.ID, ps[0].ID, "r1"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCreateGameSessionOnWithMorePlayersThanSlotsChangesNothing(t *testing.T) {
	e := newEnv(t, nil)
	e.process()
	_, _, err := e.sessions.CreateGameSessionOn(e.ctx, session.PlaceRequest{FleetID: e.fleetID, Location: e.location, MaxPlayers: 1,
		Players: []session.DesiredPlayer{{PlayerID: "p1"}, {PlayerID: "p2"}}})
	wantFault(t, err, fault.GameSessionFull, "2 players do not fit")
	if n := e.idle(); n != 1 {
		t.Fatalf("%d idle processes, want the claim rolled back", n)
	}
	if got := e.pushes.of("CreateGameSession"); len(got) != 0 {
		t.Fatalf("pushes %+v, want none", got)
	}
	out, err := e.sessions.DescribeGameSessions(e.ctx, &gamelift.DescribeGameSessionsInput{FleetId: e.fleetID})
	if err != nil || len(out.GameSessions) != 0 {
		t.Fatalf("game sessions %+v, %v; want none", out, err)
	}
}

func TestCreateGameSessionOnWithATokenUsedBeforeReturnsTheFirstSession(t *testing.T) {
	e := newEnv(t, nil)
	e.process()
	e.process()
	req := session.PlaceRequest{FleetID: e.fleetID, Location: e.location, MaxPlayers: 4, IdempotencyToken: "placement-1",
		Players: []session.DesiredPlayer{{PlayerID: "p1"}}}
	first, ps, err := e.sessions.CreateGameSessionOn(e.ctx, req)
	if err != nil || len(ps) != 1 {
		t.Fatalf("first: %v, %d players", err, len(ps))
	}
	if want := e.arns.GameSession(e.fleetID, e.location, "placement-1"); first.ID != want {
		t.Fatalf("id %s, want %s", first.ID, want)
	}
	again, ps, err := e.sessions.CreateGameSessionOn(e.ctx, req)
	if err != nil || again.ID != first.ID || len(ps) != 0 {
		t.Fatalf("again: %s, %d players, %v; want %s and no new player sessions", again.ID, len(ps), err, first.ID)
	}
	out, err := e.sessions.DescribePlayerSessionsOp(e.ctx, &gamelift.DescribePlayerSessionsInput{GameSessionId: first.ID})
	if err != nil || len(out.PlayerSessions) != 1 {
		t.Fatalf("player sessions %+v, %v; want p1's only", out, err)
	}
	if n := e.idle(); n != 1 {
		t.Fatalf("%d idle processes, want 1", n)
	}
}

func TestCreateGameSessionInCommitsWithTheCallersTransaction(t *testing.T) {
	e := newEnv(t, nil, "custom-a", "custom-b")
	tokB := e.compute("custom-b")
	pidB := e.processIn("custom-b", tokB)
	req := func(loc string) session.PlaceRequest {
		return session.PlaceRequest{FleetID: e.fleetID, Location: loc, MaxPlayers: 2, Players: []session.DesiredPlayer{{PlayerID: "p1"}}}
	}
	t.Run("a caller that fails after it rolls everything back, and nothing is pushed", func(t *testing.T) {
		errLater := errors.New("the placement could not be recorded")
		err := e.db.Update(context.Background(), func(w store.Writer) error {
			if _, _, err := e.sessions.CreateGameSessionIn(e.ctx, w, req("custom-b")); err != nil {
				return err
			}
			return errLater
		})
		if !errors.Is(err, errLater) {
			t.Fatalf("got %v", err)
		}
		if n, _ := e.fleets.IdleProcessCount(e.ctx, e.fleetID, "custom-b"); n != 1 {
			t.Fatalf("%d idle processes in custom-b, want the claim of %s rolled back", n, pidB)
		}
		if got := e.pushes.of("CreateGameSession"); len(got) != 0 {
			t.Fatalf("pushes %+v, want none", got)
		}
	})
	t.Run("after no capacity in one location the caller tries the next in the same transaction", func(t *testing.T) {
		var g session.GameSession
		err := e.db.Update(context.Background(), func(w store.Writer) error {
			_, _, err := e.sessions.CreateGameSessionIn(e.ctx, w, req("custom-a"))
			if !fault.Is(err, fault.FleetCapacityExceeded) {
				return errors.Join(errors.New("custom-a should have no capacity"), err)
			}
			g, _, err = e.sessions.CreateGameSessionIn(e.ctx, w, req("custom-b"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if g.Location != "custom-b" || g.ProcessID != pidB {
			t.Fatalf("game session in %s on %s, want custom-b on %s", g.Location, g.ProcessID, pidB)
		}
		if got := e.pushes.of("CreateGameSession"); len(got) != 1 || got[0].GameSessionID != g.ID {
			t.Fatalf("pushes %+v, want one for %s", got, g.ID)
		}
	})
	tests := []struct {
		name string
		req  session.PlaceRequest
		kind fault.Kind
	}{
		{"an unknown fleet is not found", session.PlaceRequest{FleetID: "fleet-00000000-0000-0000-0000-000000000000", Location: "custom-a", MaxPlayers: 2}, fault.NotFound},
		{"a location the fleet does not have is invalid", session.PlaceRequest{FleetID: e.fleetID, Location: "custom-z", MaxPlayers: 2}, fault.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.db.Update(context.Background(), func(w store.Writer) error {
				_, _, err := e.sessions.CreateGameSessionIn(e.ctx, w, tt.req)
				return err
			})
			wantFault(t, err, tt.kind)
		})
	}
	t.Run("an id that is taken is a conflict", func(t *testing.T) {
		e.processIn("custom-b", tokB)
		r := req("custom-b")
		r.IdempotencyToken = "taken"
		if _, _, err := e.sessions.CreateGameSessionOn(e.ctx, r); err != nil {
			t.Fatal(err)
		}
		e.processIn("custom-b", tokB)
		err := e.db.Update(context.Background(), func(w store.Writer) error {
			_, _, err := e.sessions.CreateGameSessionIn(e.ctx, w, r)
			return err
		})
		wantFault(t, err, fault.Conflict, "already exists")
	})
}

// SeatIn seats each player once in a game session: a player holding a
// live session there keeps it, the others are reserved, and a second call
// for the same players reserves nobody (backfill completes its match in
// the same transaction, so a retry or a second replica seats no one
// twice).
func TestSeatInSeatsEachPlayerOnce(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(4)
	first := e.reserve(g.GameSessionId, "old")
	seat := func(players ...string) []session.PlayerSession {
		t.Helper()
		var want []session.DesiredPlayer
		for _, p := range players {
			want = append(want, session.DesiredPlayer{PlayerID: p})
		}
		var ps []session.PlayerSession
		err := e.db.Update(e.ctx, func(w store.Writer) (err error) {
			ps, err = e.sessions.SeatIn(e.ctx, w, g.GameSessionId, want)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	byPlayer := func(ps []session.PlayerSession) map[string]string {
		m := map[string]string{}
		for _, p := range ps {
			m[p.PlayerID] = p.ID
		}
		return m
	}
	once := byPlayer(seat("old", "new"))
	if len(once) != 2 || once["old"] != first[0].PlayerSessionId || once["new"] == "" {
		t.Fatalf("seats %v, want old's own session %s and a new one for new", once, first[0].PlayerSessionId)
	}
	twice := byPlayer(seat("new"))
	if len(twice) != 2 || twice["new"] != once["new"] {
		t.Fatalf("seating new again: %v, want its first seat %s and no other", twice, once["new"])
	}
	if n := *e.describe(g.GameSessionId).CurrentPlayerSessionCount; n != 2 {
		t.Fatalf("CurrentPlayerSessionCount %d, want 2", n)
	}
}
