package flexmatch

import (
	"fmt"
	"slices"
	"time"
)

// Backfill looks in the pool for tickets to fill the open slots of a running
// match (docs/flexmatch.md, "Backfill"). req describes the match as it is now: its ID is the
// backfill ticket's, its players are the players still in the game (those who
// left are simply omitted), each with Team set, and its StartTime drives
// expansions like any ticket's. Backfill never pairs two backfill requests and
// adds at least one ticket.
//
// On success the returned Match lists the new tickets in TicketIDs and the
// full roster (current and new players) in Teams; the new tickets leave the
// pool. ok is false when no valid set of tickets exists now.
func (e *Engine) Backfill(req Ticket, now time.Time) (m Match, ok bool, err error) {
	if len(req.Players) == 0 {
		return Match{}, false, &TicketError{Path: "players", Reason: "must hold the match's current players"}
	}
	groups := map[int][]Player{}
	var order []int
	for i, p := range req.Players {
		if p.Team == "" {
			return Match{}, false, &TicketError{Path: fmt.Sprintf("players[%d].team", i), Reason: "is required for backfill"}
		}
		slots, found := e.rs.teamSlots(p.Team)
		if !found || len(slots) != 1 {
			return Match{}, false, &TicketError{Path: fmt.Sprintf("players[%d].team", i), Reason: fmt.Sprintf("no team named %q%s", p.Team, suggest(p.Team, e.rs.TeamNames()))}
		}
		if _, seen := groups[slots[0]]; !seen {
			order = append(order, slots[0])
		}
		groups[slots[0]] = append(groups[slots[0]], p)
	}
	n := now.UnixNano()
	c := &e.c
	c.reset(len(e.rs.slots))
	var anchor *wticket
	keySum, keyN := 0.0, 0
	for _, s := range order {
		wt, err := e.compile(Ticket{ID: req.ID, Players: groups[s], StartTime: req.StartTime}, true)
		if err != nil {
			return Match{}, false, err
		}
		if wt.never != "" {
			return Match{}, false, &TicketError{Path: "players", Reason: wt.never}
		}
		wt.team = s
		c.push(wt, s)
		if anchor == nil {
			anchor = wt
		} else {
			anchor.reach = anchor.reach.and(wt.reach)
		}
		keySum += wt.key * float64(len(wt.players))
		keyN += len(wt.players)
	}
	c.backfill = len(c.members)
	e.setLevel(n)
	for i, cnt := range c.counts {
		if most := int(e.loosest[e.rs.defs[e.rs.slots[i].def].pMax]); cnt > most {
			return Match{}, false, &TicketError{Path: "players", Reason: fmt.Sprintf("team %s already has %d players, more than its %d", e.rs.slots[i].name, cnt, most)}
		}
		if cnt > e.slotMax[i] {
			return Match{}, false, nil // over the team's size at this step, not at every step
		}
	}
	e.gather(anchor, keySum/float64(keyN), n)
	for _, t := range e.cands {
		if e.full() {
			break
		}
		e.place(t, n)
	}
	if !e.finish(n, c.backfill) {
		return Match{}, false, nil
	}
	m = e.emit(n)
	e.forgetMatched()
	return m, true, nil
}

// AddBackfill registers a backfill request: req is shaped as for Backfill
// (the running match's current players, each with Team). Every Cycle then
// tries to fill it from the pool, ordered against new matches by the rule
// set's backfillPriority ("high" first, "low" last, "normal" by age; large
// matches always go first unless "low"; docs/flexmatch.md, "Large matches"). A filled request
// is returned as a Match with BackfillID set and is unregistered; Remove
// cancels it. Registering an ID again replaces the earlier request.
func (e *Engine) AddBackfill(req Ticket) error {
	if req.ID == "" {
		return &TicketError{Path: "ticketId", Reason: "is required"}
	}
	if _, ok := e.tickets[req.ID]; ok {
		return fmt.Errorf("%w: %s", ErrDuplicateTicket, req.ID)
	}
	if len(req.Players) == 0 {
		return &TicketError{Path: "players", Reason: "must hold the match's current players"}
	}
	for i, p := range req.Players {
		if slots, ok := e.rs.teamSlots(p.Team); !ok || len(slots) != 1 {
			return &TicketError{Path: fmt.Sprintf("players[%d].team", i), Reason: fmt.Sprintf("no team named %q%s", p.Team, suggest(p.Team, e.rs.TeamNames()))}
		}
	}
	if _, err := e.compile(Ticket{ID: req.ID, Players: req.Players, StartTime: req.StartTime}, true); err != nil {
		return err // bad attribute values would fail every cycle
	}
	e.removeBackfill(req.ID)
	i := len(e.backfills)
	for i > 0 && e.backfills[i-1].StartTime.After(req.StartTime) {
		i--
	}
	e.backfills = slices.Insert(e.backfills, i, backfillReq{Ticket: req})
	return nil
}

// backfillReq is a registered backfill request and what its last failed
// attempt saw, so that a cycle that changed nothing it depends on skips it.
type backfillReq struct {
	Ticket
	tried   bool
	changes uint64 // Engine.poolChanges at the last failed attempt
	level   int    // the request's own expansion step then
}

// stale reports whether the request may succeed now although it failed
// before: the pool changed since, or its own step did.
func (e *Engine) stale(b *backfillReq, now time.Time) bool {
	return !b.tried || b.changes != e.poolChanges || b.level != e.rs.level(now.Sub(b.StartTime).Seconds())
}

func (e *Engine) removeBackfill(id string) bool {
	for i, b := range e.backfills {
		if b.ID == id {
			e.backfills = slices.Delete(e.backfills, i, i+1)
			if i < e.bfNext {
				e.bfNext--
			}
			return true
		}
	}
	return false
}

// runBackfills tries every registered request that started no later than
// before, oldest first, and unregisters the filled ones.
func (e *Engine) runBackfills(now time.Time, before int64, out []Match) []Match {
	for e.bfNext < len(e.backfills) {
		b := &e.backfills[e.bfNext]
		if b.StartTime.UnixNano() > before || e.Len() == 0 {
			break
		}
		if !e.stale(b, now) {
			e.bfNext++ // nothing it depends on changed since it failed
			continue
		}
		e.stats.BackfillAttempts++
		m, ok, err := e.Backfill(b.Ticket, now)
		if err != nil || !ok {
			b.tried, b.changes, b.level = true, e.poolChanges, e.rs.level(now.Sub(b.StartTime).Seconds())
			e.bfNext++ // tried this cycle
			continue
		}
		m.BackfillID = b.ID
		out = append(out, m)
		e.backfills = slices.Delete(e.backfills, e.bfNext, e.bfNext+1)
	}
	return out
}
