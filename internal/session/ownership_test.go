package session_test

import (
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/session"
)

func TestAProcessActsOnlyOnTheGameSessionItHosts(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(4)
	host := e.processOf(g)
	other := e.process()
	unknown := e.arns.GameSession(e.fleetID, e.location, "nope")
	allowed := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	refused := func(kind fault.Kind) func(*testing.T, error) {
		return func(t *testing.T, err error) { t.Helper(); wantFault(t, err, kind) }
	}
	tests := []struct {
		name      string
		processID string
		session   string
		want      func(*testing.T, error)
	}{
		{"the hosting process", host, g.GameSessionId, allowed},
		{"another process of the fleet", other, g.GameSessionId, refused(fault.Forbidden)},
		{"an unknown game session", host, unknown, refused(fault.NotFound)},
	}
	for _, tt := range tests {
		t.Run("HostedBy: "+tt.name, func(t *testing.T) {
			tt.want(t, e.sessions.HostedBy(e.ctx, tt.processID, tt.session))
		})
		t.Run("ProcessBackfill: "+tt.name, func(t *testing.T) {
			_, err := e.sessions.ProcessBackfill(e.ctx, tt.processID, "req-1", session.BackfillRequest{GameSessionArn: tt.session})
			tt.want(t, err)
		})
	}
	t.Run("a backfill without a ticket id gets one derived from the process and the call", func(t *testing.T) {
		req := session.BackfillRequest{GameSessionArn: g.GameSessionId}
		a, err := e.sessions.ProcessBackfill(e.ctx, host, "req-1", req)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := e.sessions.ProcessBackfill(e.ctx, host, "req-1", req)
		next, _ := e.sessions.ProcessBackfill(e.ctx, host, "req-2", req)
		if a.TicketID == "" || again.TicketID != a.TicketID || next.TicketID == a.TicketID {
			t.Fatalf("ticket ids %q, %q (re-sent), %q (another call): want one id per call, the same when re-sent", a.TicketID, again.TicketID, next.TicketID)
		}
	})
	t.Run("a ticket id the server chose is kept", func(t *testing.T) {
		got, err := e.sessions.ProcessBackfill(e.ctx, host, "req-1", session.BackfillRequest{GameSessionArn: g.GameSessionId, TicketID: "mine"})
		if err != nil || got.TicketID != "mine" {
			t.Fatalf("ticket id %q, %v; want mine", got.TicketID, err)
		}
	})
}
