package matchmaking

import (
	"errors"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/gamelift"
)

// ReasonUnmatchable ends a ticket the configuration's rule set can never
// match or cannot evaluate (docs/flexmatch.md, "Tickets"). GameLift refuses
// such requests in StartMatchmaking where it can tell; where a Muster
// ticket gets past the door, it fails as soon as its pool takes it rather
// than hold its players until the request timeout.
const ReasonUnmatchable = "UNMATCHABLE"

// refusal is a ticket a pass ends at once, with its reason.
type refusal struct {
	id, reason, message string
}

// refusal turns the engine's answer to a ticket (Add, Backfill) into the
// ticket's failure; false when err is nil or says the ticket is in the
// pool already.
func (p *pool) refusal(id string, err error) (refusal, bool) {
	if err == nil || errors.Is(err, flexmatch.ErrDuplicateTicket) {
		return refusal{}, false
	}
	var te *flexmatch.TicketError
	if errors.As(err, &te) {
		return refusal{id, ReasonUnmatchable, "the rule set cannot evaluate this ticket: " + te.Path + ": " + te.Reason}, true
	}
	p.s.log.Error("matchmaking: the engine failed on a ticket", "config", p.cfg.Name, "ticket", id, "err", err)
	return refusal{id, ReasonUnexpected, "the matchmaker failed on this ticket"}, true
}

// refused is a refusal with what the pool knew of the ticket.
type refused struct {
	refusal
	k *known
}

// refuse keeps a ticket the pool will not hold for the pass to end.
func (p *pool) refuse(r refusal, k *known) {
	p.refused = append(p.refused, refused{r, k})
}

// recordRefused fails a refused ticket that is still QUEUED or SEARCHING,
// with a MatchmakingFailed event naming the reason; a backfill request's
// game server hears BACKFILL_FAILED.
func (p *pool) recordRefused(t *txn, r refusal) error {
	rec, err := t.ticket(r.id)
	if err != nil || rec == nil || (rec.Status != gamelift.TicketSearching && rec.Status != gamelift.TicketQueued) {
		return err
	}
	t.end(rec, gamelift.TicketFailed, r.reason, r.message)
	et, all := eventTickets([]*ticketRec{rec}, false, nil, nil)
	if err := t.event(p.cfg, Detail{Type: EventFailed, Tickets: et, GameSessionInfo: GameSessionInfo{Players: all}, Reason: r.reason, Message: r.message, RuleEvaluationMetrics: ruleMetrics(p.rs)}); err != nil {
		return err
	}
	if rec.Backfill {
		return p.s.notifyBackfill(t, rec, UpdateBackfillFailed)
	}
	return nil
}
