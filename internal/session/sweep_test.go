package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/session"
)

// The sweep is the backstop of reservations whose timer was lost with a
// stopped process (timeout.go times out the others at their deadline).
func TestSweepRecordsTimedOutReservations(t *testing.T) {
	e := newEnv(t, nil)
	loseTimers(t, e.sessions)
	g := e.active(4)
	late := e.reserve(g.GameSessionId, "p1")[0]
	created := e.clk.Now()
	e.clk.Advance(10 * time.Second)
	fresh := e.reserve(g.GameSessionId, "p2")[0]
	e.clk.Advance(session.DefaultReservationTimeout - 10*time.Second)
	t.Run("before the sweep the store still holds RESERVED", func(t *testing.T) {
		if got := stored[session.PlayerSession](e, session.KindPlayerSession, late.PlayerSessionId).Status; got != gamelift.PlayerSessionReserved {
			t.Fatalf("stored %s, want RESERVED", got)
		}
	})
	t.Run("the sweep stores TIMEDOUT, ended at the deadline", func(t *testing.T) {
		if err := e.sessions.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		p := stored[session.PlayerSession](e, session.KindPlayerSession, late.PlayerSessionId)
		if p.Status != gamelift.PlayerSessionTimedOut || !p.TerminatedAt.Equal(created.Add(session.DefaultReservationTimeout)) {
			t.Fatalf("stored %s ended %v, want TIMEDOUT at %v", p.Status, p.TerminatedAt, created.Add(session.DefaultReservationTimeout))
		}
	})
	t.Run("a reservation younger than 60 s is left alone", func(t *testing.T) {
		if got := stored[session.PlayerSession](e, session.KindPlayerSession, fresh.PlayerSessionId).Status; got != gamelift.PlayerSessionReserved {
			t.Fatalf("stored %s, want RESERVED", got)
		}
	})
	t.Run("the store's status key follows: the RESERVED filter no longer finds it", func(t *testing.T) {
		out, err := e.sessions.DescribePlayerSessionsOp(e.ctx, &gamelift.DescribePlayerSessionsInput{GameSessionId: g.GameSessionId,
			PlayerSessionStatusFilter: gamelift.PlayerSessionReserved})
		if err != nil || len(out.PlayerSessions) != 1 || out.PlayerSessions[0].PlayerSessionId != fresh.PlayerSessionId {
			t.Fatalf("RESERVED: %+v, %v; want only %s", out, err, fresh.PlayerSessionId)
		}
	})
}

func TestRunSweepsEverySecondUntilStopped(t *testing.T) {
	e := newEnv(t, nil)
	e.process()
	g := e.create(2)
	pid := e.processOf(g)
	e.clk.Advance(activationTimeout) // the session is late; nothing has swept yet
	terminated := e.pushes.notify()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	armed := e.clk.Timers()
	go func() { done <- e.sessions.Run(ctx) }()
	e.clk.WaitForTimers(armed + 1) // Run's ticker
	e.clk.Advance(time.Second)
	select {
	case got := <-terminated:
		if got != pid {
			t.Fatalf("TerminateProcess of %s, want %s", got, pid)
		}
	case <-time.After(30 * time.Second): // a safety net for a hung test, not a timing check
		t.Fatal("the first tick did not sweep the late game session")
	}
	if got := stored[session.GameSession](e, session.KindGameSession, g.GameSessionId).Status; got != gamelift.GameSessionError {
		t.Fatalf("stored %s, want ERROR", got)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
}
