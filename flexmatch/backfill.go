package flexmatch

import (
	"fmt"
	"time"
)

// Backfill looks in the pool for tickets to fill the open slots of a running
// match (reference §7.9). req describes the match as it is now: its ID is the
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
		if cnt > e.slotMax[i] {
			return Match{}, false, &TicketError{Path: "players", Reason: fmt.Sprintf("team %s already has %d players, more than its %d", e.rs.slots[i].name, cnt, e.slotMax[i])}
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
	return e.emit(n), true, nil
}
