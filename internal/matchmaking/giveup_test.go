package matchmaking_test

import (
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
)

// Players who give up while their match is placing cancel their tickets
// through the player API; once none is left, the placement is stopped
// instead of starting a game session nobody joins.
func TestPlayersWhoGiveUpWhileTheirMatchIsPlacing(t *testing.T) {
	cancel := func(w *world, playerID, ticketID string) {
		w.t.Helper()
		if err := w.svc.CancelForPlayer(player(w.ctx, playerID), ticketID); err != nil {
			w.t.Fatal(err)
		}
	}
	placementOf := func(w *world, id string) (string, string, string) {
		w.t.Helper()
		p, err := w.placement.Placement(w.ctx, id)
		if err != nil {
			w.t.Fatal(err)
		}
		return p.Status, p.StatusReason, p.GameSessionArn
	}
	t.Run("all give up: the placement is cancelled and starts no game session", func(t *testing.T) {
		w := withQueueWorld(t, gamelift.BackfillManual).in(t)
		match := w.pairPlacing(1000) // no process yet: the placement waits
		_, err := w.svc.StopMatchmaking(w.ctx, &gamelift.StopMatchmakingInput{TicketId: "a"})
		wantFault(t, err, fault.Invalid, "PLACING") // the control API keeps GameLift's refusal
		cancel(w, "pa", "a")
		w.wantReason(gamelift.TicketCancelled, "Cancelled", "cancelled by the player while the match was placing", "a")
		w.wantStatus(gamelift.TicketPlacing, "b")
		if st, _, _ := placementOf(w, match); st != gamelift.PlacementPending {
			t.Fatalf("placement %s after one player left, want PENDING", st)
		}
		cancel(w, "pb", "b")
		w.wantStatus(gamelift.TicketCancelled, "a", "b")
		st, reason, _ := placementOf(w, match)
		if st != gamelift.PlacementCancelled || reason != "every ticket of the match was cancelled before its game session started" {
			t.Fatalf("placement %s (%q), want CANCELLED with its reason", st, reason)
		}
		w.process()
		if !w.place(match) {
			t.Fatal("the cancelled placement is still attempted")
		}
		if _, _, arn := placementOf(w, match); arn != "" {
			t.Fatalf("a cancelled placement started game session %s", arn)
		}
		if n, err := w.fleets.IdleProcessCount(w.ctx, w.fleetID, "custom-home"); err != nil || n != 1 {
			t.Fatalf("idle processes %d, %v; want the process left free", n, err)
		}
		wantFault(t, w.svc.CancelForPlayer(player(w.ctx, "pa"), "a"), fault.Invalid, "CANCELLED")
	})
	t.Run("one gives up: the others still get their game session", func(t *testing.T) {
		w := withQueueWorld(t, gamelift.BackfillManual).in(t)
		match := w.pairPlacing(1000)
		cancel(w, "pa", "a")
		w.process()
		if !w.place(match) {
			t.Fatal("the placement did not end")
		}
		w.wantStatus(gamelift.TicketCancelled, "a")
		w.wantStatus(gamelift.TicketCompleted, "b")
	})
	t.Run("all give up once the game session exists: it is left to start", func(t *testing.T) {
		w := withQueueWorld(t, gamelift.BackfillManual).in(t)
		w.process()
		match := w.pairPlacing(1000)
		if done, err := w.placement.Attempt(w.ctx, match); err != nil || done {
			t.Fatalf("attempt: done %v, %v; want the game session activating", done, err)
		}
		cancel(w, "pa", "a")
		cancel(w, "pb", "b")
		if st, _, arn := placementOf(w, match); st != gamelift.PlacementPending || arn == "" {
			t.Fatalf("placement %s with session %q, want PENDING with its game session", st, arn)
		}
		if !w.place(match) {
			t.Fatal("the placement did not end")
		}
		if st, _, _ := placementOf(w, match); st != gamelift.PlacementFulfilled {
			t.Fatalf("placement %s, want FULFILLED", st)
		}
		w.wantStatus(gamelift.TicketCancelled, "a", "b")
	})
}
