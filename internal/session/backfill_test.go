package session_test

import (
	"context"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/session"
)

func TestWithoutMatchmakingBackfillFailsClearly(t *testing.T) {
	var b session.Backfiller = session.NoMatchmaking{}
	_, err := b.StartMatchBackfill(context.Background(), session.BackfillRequest{})
	if !fault.Is(err, fault.Unsupported) || !strings.Contains(err.Error(), "matchmaking is not available on this server") {
		t.Fatalf("StartMatchBackfill: %v", err)
	}
	if err := b.StopMatchBackfill(context.Background(), "", "", ""); !fault.Is(err, fault.Unsupported) {
		t.Fatalf("StopMatchBackfill: %v", err)
	}
}

func TestAProcessBackfillsOnlyItsOwnGameSession(t *testing.T) {
	e := newEnv(t, nil)
	mine, theirs := e.active(4), e.active(4)
	gs, err := e.sessions.GameSession(e.ctx, mine.GameSessionId)
	if err != nil {
		t.Fatal(err)
	}
	req := session.BackfillRequest{GameSessionArn: mine.GameSessionId, MatchmakingConfigurationArn: "cfg"}
	t.Run("a ticket id the call leaves out is derived from the process and the request", func(t *testing.T) {
		first, err := e.sessions.ProcessBackfill(e.ctx, gs.ProcessID, "request-1", req)
		if err != nil || first.TicketID == "" {
			t.Fatalf("ProcessBackfill = %+v, %v", first, err)
		}
		again, _ := e.sessions.ProcessBackfill(e.ctx, gs.ProcessID, "request-1", req)
		other, _ := e.sessions.ProcessBackfill(e.ctx, gs.ProcessID, "request-2", req)
		if again.TicketID != first.TicketID || other.TicketID == first.TicketID {
			t.Fatalf("ticket ids %s, %s (same request), %s (another): want the same request to give the same id only", first.TicketID, again.TicketID, other.TicketID)
		}
		// The Go SDK sends a request object again with its RequestId; with
		// other players it is another backfill.
		changed := req
		changed.Players = []session.BackfillPlayer{{PlayerId: "late", Team: "red"}}
		if reused, _ := e.sessions.ProcessBackfill(e.ctx, gs.ProcessID, "request-1", changed); reused.TicketID == first.TicketID {
			t.Fatalf("a reused RequestId with other players kept ticket id %s; want a new backfill", first.TicketID)
		}
	})
	t.Run("a ticket id the call gives is kept", func(t *testing.T) {
		named := req
		named.TicketID = "mine"
		if got, err := e.sessions.ProcessBackfill(e.ctx, gs.ProcessID, "request-3", named); err != nil || got.TicketID != "mine" {
			t.Fatalf("ProcessBackfill = %+v, %v", got, err)
		}
	})
	t.Run("another process's game session is forbidden", func(t *testing.T) {
		other := req
		other.GameSessionArn = theirs.GameSessionId
		_, err := e.sessions.ProcessBackfill(e.ctx, gs.ProcessID, "request-4", other)
		wantFault(t, err, fault.Forbidden, "not hosted by this process")
		wantFault(t, e.sessions.HostedBy(e.ctx, gs.ProcessID, theirs.GameSessionId), fault.Forbidden)
	})
	t.Run("an unknown game session is not found", func(t *testing.T) {
		wantFault(t, e.sessions.HostedBy(e.ctx, gs.ProcessID, "arn:aws:gamelift:mu-local-1::gamesession/fleet-x/custom-a/nope"), fault.NotFound)
	})
}
