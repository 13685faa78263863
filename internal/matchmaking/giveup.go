package matchmaking

import (
	"context"
	"fmt"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// A player who gives up waiting for a placed match cancels its ticket
// through the player API while the ticket is PLACING. The control API's
// StopMatchmaking refuses a PLACING ticket, as GameLift does; the player
// API takes it so that a match nobody waits for any more does not start a
// game session that holds a server process until the server's idle exit.

// giveUpMessage is the StatusReason message of a ticket cancelled while
// its match was placing.
const giveUpMessage = "cancelled by the player while the match was placing"

// stopPlacementReason is the StatusReason of a placement stopped because
// every ticket of its match was cancelled.
const stopPlacementReason = "every ticket of the match was cancelled before its game session started"

// giveUp cancels a PLACING ticket of a match being placed: the ticket ends
// CANCELLED at once, and once every ticket of the match has ended the
// match's placement is stopped (CANCELLED) in the same transaction, unless
// its game session already exists. It reports false, having written
// nothing, when the ticket is not PLACING in a match being placed; the
// caller then cancels it as any other.
func (s *Service) giveUp(ctx context.Context, id string) (bool, error) {
	handled := false
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		handled = false
		t := s.newTxn(ctx, w)
		r, err := t.existingTicket(id)
		if err != nil || r.Status != gamelift.TicketPlacing || r.MatchID == "" || s.cfg.Placer == nil {
			return err
		}
		m, c, ok, err := t.matchIn(r.MatchID, matchPlacing)
		if !ok {
			return err
		}
		handled = true
		t.end(r, gamelift.TicketCancelled, ReasonCancelled, giveUpMessage)
		et, all := eventTickets([]*ticketRec{r}, false, nil, nil)
		if err := t.event(c, Detail{Type: EventCancelled, Tickets: et, MatchID: m.ID, GameSessionInfo: GameSessionInfo{Players: all}, Reason: ReasonCancelled, Message: giveUpMessage}); err != nil {
			return err
		}
		recs, err := t.matchTickets(m)
		if err != nil {
			return err
		}
		for _, x := range recs {
			if !terminal(x.Status) {
				return t.flush()
			}
		}
		// Nobody is left: the match ends here, before the placement's
		// listener (PlacementEnded) would hear its own stop.
		m.State = matchFailed
		t.matchChanged(m)
		if err := t.flush(); err != nil {
			return err
		}
		if _, err := s.cfg.Placer.StopIn(ctx, w, m.ID, stopPlacementReason); err != nil {
			return fmt.Errorf("stop the placement of match %s: %w", m.ID, err)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("cancel ticket: %w", err)
	}
	return handled, nil
}

// placingTickets keeps the tickets of a placed match that still wait for
// it: a ticket its player cancelled while the match was placing keeps its
// end.
func placingTickets(recs []*ticketRec) []*ticketRec {
	out := recs[:0:0]
	for _, r := range recs {
		if !terminal(r.Status) {
			out = append(out, r)
		}
	}
	return out
}
