package session_test

import (
	"testing"
	"time"

	"github.com/musterhq/muster/internal/session"
)

// Every status a player session enters is an outbox event of that
// session: reserved, activated by its game server, completed, or timed
// out unclaimed (when swept).
func TestPlayerSessionsLeaveAnEventForEachStatus(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(4)
	ps := e.reserve(g.GameSessionId, "player-1", "player-2")
	processID := stored[session.GameSession](e, session.KindGameSession, g.GameSessionId).ProcessID
	one, two := ps[0].PlayerSessionId, ps[1].PlayerSessionId
	if err := e.sessions.AcceptPlayerSession(e.ctx, processID, g.GameSessionId, one, "req-1"); err != nil {
		t.Fatal(err)
	}
	if err := e.sessions.RemovePlayerSession(e.ctx, processID, g.GameSessionId, one, "req-2"); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(10 * time.Minute)
	if err := e.sessions.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		typ, id string
		want    int
	}{
		{session.EventPlayerSessionReserved, one, 1}, {session.EventPlayerSessionActivated, one, 1}, {session.EventPlayerSessionCompleted, one, 1},
		{session.EventPlayerSessionTimedOut, one, 0},
		{session.EventPlayerSessionReserved, two, 1}, {session.EventPlayerSessionTimedOut, two, 1}, {session.EventPlayerSessionActivated, two, 0},
	} {
		if got := e.outbox(c.typ, c.id); got != c.want {
			t.Errorf("%s of %s: %d events, want %d", c.typ, c.id, got, c.want)
		}
	}
}
