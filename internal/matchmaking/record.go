package matchmaking

import (
	"context"
	"time"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/store"
)

// record writes a pass's decisions in one store transaction, with their
// events, checking each ticket's stored status first: a ticket cancelled
// while the pass ran spoils only its own match, whose other tickets
// (spoiled) go back to the pool. On error nothing was recorded.
func (p *pool) record(ctx context.Context, d decisions) (*txn, []string, error) {
	var spoiled []string
	var t *txn
	err := p.s.cfg.Store.Update(ctx, func(w store.Writer) error {
		spoiled = spoiled[:0]
		if p.lease != nil {
			if err := lease.Check(ctx, w, *p.lease, d.now); err != nil {
				return err
			}
		}
		t = p.s.newTxn(ctx, w)
		for _, k := range d.known {
			if k != nil && k.version > 0 {
				t.seed(k.rec, k.version)
			}
		}
		for _, id := range d.fresh {
			if err := p.recordSearching(t, id, d.now); err != nil {
				return err
			}
		}
		for _, id := range d.timedOut {
			if err := p.recordTimedOut(t, id); err != nil {
				return err
			}
		}
		for _, r := range d.refused {
			if err := p.recordRefused(t, r); err != nil {
				return err
			}
		}
		for _, pr := range d.proposals {
			ok, err := t.propose(p, pr.match, pr.backfill)
			if err != nil {
				return err
			}
			if !ok {
				spoiled = append(spoiled, pr.ticketIDs()...)
			}
		}
		return t.flush()
	})
	return t, spoiled, err
}

// recordSearching moves a QUEUED ticket to SEARCHING.
func (p *pool) recordSearching(t *txn, id string, now time.Time) error {
	r, err := t.ticket(id)
	if err != nil || r == nil || r.Status != gamelift.TicketQueued {
		return err
	}
	r.Status = gamelift.TicketSearching
	t.changed(r)
	et, all := eventTickets([]*ticketRec{r}, r.Backfill, nil, nil) // a backfill ticket's players have their teams
	return t.event(p.cfg, Detail{Type: EventSearching, Tickets: et, GameSessionInfo: GameSessionInfo{Players: all}, EstimatedWaitMillis: p.waits.eventWait(now)})
}

// recordTimedOut ends a ticket whose request timeout passed.
func (p *pool) recordTimedOut(t *txn, id string) error {
	r, err := t.ticket(id)
	if err != nil || r == nil || (r.Status != gamelift.TicketSearching && r.Status != gamelift.TicketQueued) {
		return err
	}
	msg := "removed from matchmaking after the request timeout"
	t.end(r, gamelift.TicketTimedOut, ReasonTimedOut, msg)
	et, all := eventTickets([]*ticketRec{r}, r.Backfill, nil, nil) // a backfill ticket's players have their teams
	if err := t.event(p.cfg, Detail{Type: EventTimedOut, Tickets: et, GameSessionInfo: GameSessionInfo{Players: all}, Reason: ReasonTimedOut, Message: msg, RuleEvaluationMetrics: ruleMetrics(p.rs)}); err != nil {
		return err
	}
	if r.Backfill {
		return p.s.notifyBackfill(t, r, UpdateBackfillTimedOut)
	}
	return nil
}
