package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/session"
)

// loseTimers stops s's reservation timers, as a stopped process loses
// them: RunTimeouts with an ended context stops every timer and arms no
// more.
func loseTimers(t *testing.T, s *session.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.RunTimeouts(ctx); err != nil {
		t.Fatal(err)
	}
}

// A RESERVED player session times out at its deadline, 60 s after it was
// reserved: the Advance that reaches the deadline has stored TIMEDOUT and
// its PlayerSessionTimedOut event by the time it returns, without a
// sweep. One accepted in time keeps its status and gets no event.
func TestAReservationTimesOutAtItsDeadline(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(4)
	ps := e.reserve(g.GameSessionId, "late", "accepted")
	late, accepted := ps[0].PlayerSessionId, ps[1].PlayerSessionId
	deadline := e.clk.Now().Add(session.DefaultReservationTimeout)
	processID := stored[session.GameSession](e, session.KindGameSession, g.GameSessionId).ProcessID
	if err := e.sessions.AcceptPlayerSession(e.ctx, processID, g.GameSessionId, accepted, "req-1"); err != nil {
		t.Fatal(err)
	}

	e.clk.Set(deadline.Add(-time.Nanosecond))
	if got := stored[session.PlayerSession](e, session.KindPlayerSession, late).Status; got != gamelift.PlayerSessionReserved {
		t.Fatalf("a nanosecond before the deadline: stored %s, want RESERVED", got)
	}
	if n := e.outbox(session.EventPlayerSessionTimedOut, late); n != 0 {
		t.Fatalf("a nanosecond before the deadline: %d PlayerSessionTimedOut events", n)
	}

	e.clk.Set(deadline)
	wantTimedOutOnce(t, e, late, deadline, "at the deadline")
	if got := stored[session.PlayerSession](e, session.KindPlayerSession, accepted).Status; got != gamelift.PlayerSessionActive {
		t.Fatalf("the accepted session: stored %s, want ACTIVE", got)
	}
	if n := e.outbox(session.EventPlayerSessionTimedOut, accepted); n != 0 {
		t.Fatalf("the accepted session: %d PlayerSessionTimedOut events, want 0", n)
	}
	// A sweep afterwards finds nothing left to do: still one event.
	if err := e.sessions.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.outbox(session.EventPlayerSessionTimedOut, late); n != 1 {
		t.Fatalf("after a sweep: %d PlayerSessionTimedOut events, want 1", n)
	}
}

// A replica that starts (a restart) arms the time-outs of reservations
// already stored, so they too time out at their deadline; another replica
// timing out the same reservation at the same moment leaves one event.
func TestARestartedReplicaTimesOutStoredReservationsAtTheirDeadline(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(4)
	id := e.reserve(g.GameSessionId, "p1")[0].PlayerSessionId
	deadline := e.clk.Now().Add(session.DefaultReservationTimeout)
	loseTimers(t, e.sessions) // the replica that reserved it stops

	_, restarted := newServices(service.Base{Store: e.db, Clock: e.clk, ARNs: e.arns}, e.pushes)
	_, other := newServices(service.Base{Store: e.db, Clock: e.clk, ARNs: e.arns}, e.pushes)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	armed := e.clk.Timers()
	done := make(chan error, 2)
	go func() { done <- restarted.RunTimeouts(ctx) }()
	go func() { done <- other.RunTimeouts(ctx) }()
	e.clk.WaitForTimers(armed + 2)

	e.clk.Set(deadline)
	wantTimedOutOnce(t, e, id, deadline, "with two replicas armed")
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// wantTimedOutOnce checks that the player session id is stored TIMEDOUT,
// ended at deadline, with one PlayerSessionTimedOut event (when names the
// moment in the failure).
func wantTimedOutOnce(t *testing.T, e *env, id string, deadline time.Time, when string) {
	t.Helper()
	p := stored[session.PlayerSession](e, session.KindPlayerSession, id)
	if p.Status != gamelift.PlayerSessionTimedOut || !p.TerminatedAt.Equal(deadline) {
		t.Fatalf("%s: stored %s ended %v, want TIMEDOUT at %v", when, p.Status, p.TerminatedAt, deadline)
	}
	if n := e.outbox(session.EventPlayerSessionTimedOut, id); n != 1 {
		t.Fatalf("%s: %d PlayerSessionTimedOut events, want 1", when, n)
	}
}

// A reservation made with its game session (by a placement) waits for that
// session: no player can join before it is ACTIVE, so however long the
// game server loads, the 60 s count from its activation, and a sweep
// meanwhile leaves it RESERVED.
func TestAReservationMadeWithItsGameSessionCountsFromActivation(t *testing.T) {
	e := newEnv(t, nil)
	e.process()
	g, ps := e.place(4, "slow-loader")
	id := ps[0].ID
	e.clk.Advance(activationTimeout - time.Second)
	if err := e.sessions.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.player(id).Status; got != gamelift.PlayerSessionReserved {
		t.Fatalf("while its game session activates: %s, want RESERVED", got)
	}
	if err := e.sessions.ActivateGameSession(e.ctx, g.ProcessID, g.ID); err != nil {
		t.Fatal(err)
	}
	deadline := e.clk.Now().Add(session.DefaultReservationTimeout)
	e.clk.Set(deadline.Add(-time.Nanosecond))
	if got := e.player(id).Status; got != gamelift.PlayerSessionReserved {
		t.Fatalf("a nanosecond before 60 s from activation: %s, want RESERVED", got)
	}
	e.clk.Set(deadline)
	wantTimedOutOnce(t, e, id, deadline, "60 s after activation")
}
