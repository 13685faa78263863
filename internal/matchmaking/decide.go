package matchmaking

import (
	"container/heap"
	"fmt"
	"time"

	"github.com/musterhq/muster/flexmatch"
)

// inputs is what other goroutines handed a pool since its last pass.
type inputs struct {
	arrivals []arrival
	removals []string
}

// decisions is what one pass of a pool decided from its engine's state and
// the time, before anything is stored; record writes them in one
// transaction. Expansions need no decision of their own: the engine
// applies them from the tickets' ages when it runs.
type decisions struct {
	now time.Time
	// fresh are QUEUED tickets the pass took in: they become SEARCHING.
	fresh []string
	// timedOut are tickets whose request timeout passed.
	timedOut []string
	// refused are tickets the engine refused or can never match: they
	// fail at once with the reason rather than wait for their timeout.
	refused []refusal
	// proposals are the matches formed: backfill requests the engine
	// filled first, then new matches.
	proposals []proposal
	// known is what the pool knows of each ticket above, so the
	// transaction writes it with a compare-and-swap instead of reading it.
	known map[string]*known
}

// proposal is a match the engine formed; backfill is the backfill ticket
// it fills ("" for a new match).
type proposal struct {
	match    flexmatch.Match
	backfill string
}

// ticketIDs lists the proposal's tickets, the backfill ticket first.
func (pr proposal) ticketIDs() []string {
	if pr.backfill == "" {
		return pr.match.TicketIDs
	}
	return append([]string{pr.backfill}, pr.match.TicketIDs...)
}

func (d *decisions) empty() bool {
	return len(d.fresh) == 0 && len(d.timedOut) == 0 && len(d.refused) == 0 && len(d.proposals) == 0
}

// ticketIDs lists every ticket the decisions touch.
func (d *decisions) ticketIDs() []string {
	ids := append([]string(nil), d.fresh...)
	ids = append(ids, d.timedOut...)
	for _, r := range d.refused {
		ids = append(ids, r.id)
	}
	for _, pr := range d.proposals {
		ids = append(ids, pr.ticketIDs()...)
	}
	return ids
}

// decide takes a pass's inputs into the pool and runs it at now: it ends
// tickets past their deadline, fills backfill requests and runs the
// engine. It reads and writes only the pool's memory. Tickets it matched
// or timed out leave the pool; if recording fails, the pass returns them.
func (p *pool) decide(in inputs, now time.Time, tick bool) decisions {
	d := decisions{now: now, known: map[string]*known{}}
	for _, id := range in.removals {
		if w := p.waiter(id); w != nil {
			p.departed.add(id, w.version, now)
		}
		p.drop(id)
	}
	for _, a := range in.arrivals {
		if p.admit(a) && a.fresh {
			d.fresh = append(d.fresh, a.rec.ID)
			d.known[a.rec.ID] = &known{a.rec, a.version}
		}
	}
	p.expire(&d)
	p.fillBackfills(&d)
	if tick {
		p.rescan(now)
	}
	for _, m := range p.cycle(now) {
		d.proposals = append(d.proposals, proposal{match: m})
	}
	p.lastCycle = now
	for _, r := range p.refused {
		d.refused = append(d.refused, r.refusal)
		d.known[r.id] = r.k
	}
	clear(p.refused)
	p.refused = p.refused[:0]
	for _, pr := range d.proposals {
		for _, id := range pr.match.TicketIDs {
			if d.known[id] == nil {
				d.known[id] = p.known(p.waiting[id])
			}
			delete(p.waiting, id)
		}
	}
	p.s.log.Debug("cycle", "config", p.cfg.Name, "now", now, "in", len(in.arrivals), "waiting", len(p.waiting), "matches", len(d.proposals))
	return d
}

// admit puts an arriving ticket in the pool; false when it is there
// already, or when the engine refuses it (kept in p.refused for the pass
// to record).
func (p *pool) admit(a arrival) bool {
	id, start := a.rec.ID, a.rec.Start
	// A ticket starts before its commit reaches the pool. The engine
	// assumes a ticket that started before its previous cycle was in that
	// cycle (and skips it as a candidate of newer anchors), so a ticket
	// that started moments before the last cycle enters the engine as
	// starting at that cycle: its expansions begin a few milliseconds
	// late, and no match is missed. Older tickets (after a restart) keep
	// their start; the rescan covers them.
	if start.Before(p.lastCycle) && p.lastCycle.Sub(start) < 5*time.Second {
		start = p.lastCycle
	}
	if p.departed.stale(id, a.version) {
		return false
	}
	var w *waiter
	if a.rec.Backfill {
		if _, dup := p.backfills[id]; dup {
			return false
		}
		b := p.newBackfillWaiter(a, start)
		p.backfills[id] = b
		w = &b.waiter
	} else {
		if _, dup := p.waiting[id]; dup {
			return false
		}
		t := a.rec.engineTicket()
		t.StartTime = start
		if r, ok := p.refusal(id, p.eng.Add(t)); ok {
			p.refuse(r, &known{a.rec, a.version})
			return false
		}
		if never := p.eng.Never(id); never != "" {
			p.eng.Remove(id)
			p.refuse(refusal{id, ReasonUnmatchable, "the rule set can never match this ticket: " + never}, &known{a.rec, a.version})
			return false
		}
		w = p.newWaiter(a, start)
		p.waiting[id] = w
	}
	heap.Push(&p.deadlines, deadlineItem{id, w.deadline})
	return true
}

// expire takes the tickets whose deadline has passed out of the pool.
func (p *pool) expire(d *decisions) {
	now := d.now.UnixNano()
	for len(p.deadlines) > 0 && p.deadlines[0].at <= now {
		it := heap.Pop(&p.deadlines).(deadlineItem)
		w := p.waiter(it.id)
		if w == nil || w.deadline != it.at {
			continue
		}
		d.timedOut = append(d.timedOut, it.id)
		d.known[it.id] = p.known(w)
		p.drop(it.id)
	}
}

// fillBackfills asks the engine to fill each waiting backfill request.
func (p *pool) fillBackfills(d *decisions) {
	for id, w := range p.backfills {
		if p.eng.Len() == 0 {
			return // nobody to add (and flexmatch's Backfill panics on an empty pool)
		}
		m, ok, err := p.backfill(w.t, d.now)
		if r, refused := p.refusal(id, err); refused {
			p.refuse(r, p.known(&w.waiter))
			delete(p.backfills, id)
			continue
		}
		if ok {
			d.proposals = append(d.proposals, proposal{match: m, backfill: id})
			d.known[id] = p.known(&w.waiter)
			delete(p.backfills, id)
		}
	}
}

// rescanBatch is how many waiting tickets each periodic pass hands the
// engine again.
const rescanBatch = 64

// rescan takes a few waiting tickets out of the engine and puts them back,
// round robin, so each becomes an anchor again. The engine tries only new
// tickets (and those whose expansion step changed) as anchors; a match it
// missed when its tickets arrived in an unlucky order (seen after restarts,
// when tickets come back with old start times) would otherwise wait for
// the next expansion step or the timeout.
func (p *pool) rescan(now time.Time) {
	rebuilt := false
	for n := 0; n < rescanBatch; {
		if p.scanAt >= len(p.scan) {
			if rebuilt || len(p.waiting) == 0 {
				return
			}
			rebuilt = true
			p.scan, p.scanAt = p.scan[:0], 0
			for id := range p.waiting {
				p.scan = append(p.scan, id)
			}
		}
		id := p.scan[p.scanAt]
		p.scanAt++
		w, ok := p.waiting[id]
		if !ok || now.UnixNano()-w.start < int64(p.s.cfg.CycleInterval) {
			continue
		}
		n++
		p.eng.Revisit(id)
	}
}

// backfill runs the engine's Backfill, turning a panic of the engine into
// an error so one bad request cannot stop the configuration's loop.
func (p *pool) backfill(t flexmatch.Ticket, now time.Time) (m flexmatch.Match, ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("flexmatch: Backfill panicked: %v", r)
		}
	}()
	return p.eng.Backfill(t, now)
}
