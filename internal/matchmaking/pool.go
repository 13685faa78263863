package matchmaking

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// pool runs one configuration's engine. The loop goroutine owns eng,
// waiting, backfills and deadlines; other goroutines hand it work through
// the fields mu guards and wake it with kick.
type pool struct {
	s    *Service
	name string // the configuration's name and ARN, immutable
	arn  string
	// closed is set inside the transaction that deletes the configuration.
	closed atomic.Bool
	cfg    configRec          // loop goroutine; replaced by setConfig under mu
	rs     *flexmatch.RuleSet // immutable for the pool's life
	eng    *flexmatch.Engine
	done   chan struct{}
	kick   chan struct{}
	quit   chan struct{}
	once   sync.Once

	waits waitStats

	// mu guards incoming, removals, calls and newCfg.
	mu       sync.Mutex
	incoming []arrival
	removals []string
	calls    []func()
	newCfg   *configRec

	// The loop goroutine owns the rest.
	waiting   map[string]*waiter
	backfills map[string]*waiter
	deadlines deadlineHeap
	scan      []string // rescan order
	scanAt    int
	gone      map[string]*waiter // timed out in the current cycle
	lastCycle time.Time          // when the engine last ran
}

type arrival struct {
	rec     ticketRec
	version int64 // the stored version of rec; 0 when unknown
	fresh   bool  // QUEUED: moves to SEARCHING in the next cycle
}

type waiter struct {
	t        flexmatch.Ticket
	deadline time.Time
	// rec and version are the ticket as last stored, so a cycle's
	// transaction writes it with a compare-and-swap instead of reading it
	// first (version 0: read it).
	rec     ticketRec
	version int64
}

func newPool(s *Service, c configRec, rs *flexmatch.RuleSet) *pool {
	opt := s.cfg.Engine
	if !c.standalone() {
		opt.AdditionalPlayerCount = int(c.AdditionalPlayerCount)
	}
	return &pool{s: s, name: c.Name, arn: c.ARN, cfg: c, rs: rs, eng: flexmatch.NewEngine(rs, opt), done: make(chan struct{}), kick: make(chan struct{}, 1), quit: make(chan struct{}),
		waiting: map[string]*waiter{}, backfills: map[string]*waiter{}, gone: map[string]*waiter{}}
}

func (p *pool) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *pool) stop() { p.once.Do(func() { close(p.quit) }) }

// add hands the pool a ticket to wait in it.
func (p *pool) add(rec ticketRec, fresh bool) { p.addVersion(rec, 0, fresh) }

// addVersion is add with the stored version of rec.
func (p *pool) addVersion(rec ticketRec, version int64, fresh bool) {
	p.mu.Lock()
	p.incoming = append(p.incoming, arrival{rec, version, fresh})
	p.mu.Unlock()
	p.wake()
}

// remove takes a ticket out of the pool.
func (p *pool) remove(id string) {
	p.mu.Lock()
	p.removals = append(p.removals, id)
	p.mu.Unlock()
	p.wake()
}

func (p *pool) setConfig(c configRec) {
	p.mu.Lock()
	p.newCfg = &c
	p.mu.Unlock()
	p.wake()
}

// call runs f on the loop goroutine and waits for it.
func (p *pool) call(ctx context.Context, f func()) error {
	ch := make(chan struct{})
	p.mu.Lock()
	p.calls = append(p.calls, func() { f(); close(ch) })
	p.mu.Unlock()
	p.wake()
	select {
	case <-ch:
		return nil
	case <-p.done:
		return errors.New("matchmaking: the configuration's pool stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pool) run(ctx context.Context) {
	defer close(p.done)
	t := p.s.cfg.Clock.NewTicker(p.s.cfg.CycleInterval)
	defer t.Stop()
	tick := false
	for {
		p.cycle(ctx, tick)
		tick = false
		select {
		case <-ctx.Done():
			return
		case <-p.quit:
			return
		case <-p.kick:
		case <-t.C():
			tick = true
		}
	}
}

// cycle takes arrivals and removals, ends timed-out tickets, runs backfill
// and the engine, and records the outcome in one transaction.
func (p *pool) cycle(ctx context.Context, tick bool) {
	p.mu.Lock()
	in, rm, calls := p.incoming, p.removals, p.calls
	p.incoming, p.removals, p.calls = nil, nil, nil
	if p.newCfg != nil {
		p.cfg, p.newCfg = *p.newCfg, nil
	}
	p.mu.Unlock()
	now := p.s.now()
	for _, id := range rm {
		p.drop(id)
	}
	var fresh []string
	for _, a := range in {
		w := &waiter{t: a.rec.engineTicket(), deadline: a.rec.Start.Add(secs(p.cfg.RequestTimeout)), rec: a.rec, version: a.version}
		// A ticket starts before its commit reaches the pool. The engine
		// assumes a ticket that started before its previous cycle was in
		// that cycle (and skips it as a candidate of newer anchors), so a
		// ticket that started moments before the last cycle enters the
		// engine as starting at that cycle: its expansions begin a few
		// milliseconds late, and no match is missed. Older tickets (after
		// a restart) keep their start; the rescan covers them.
		if st := w.t.StartTime; st.Before(p.lastCycle) && p.lastCycle.Sub(st) < 5*time.Second {
			w.t.StartTime = p.lastCycle
		}
		if a.rec.Backfill {
			if _, dup := p.backfills[a.rec.ID]; dup {
				continue
			}
			p.backfills[a.rec.ID] = w
		} else {
			if _, dup := p.waiting[a.rec.ID]; dup {
				continue
			}
			if err := p.eng.Add(w.t); err != nil {
				p.s.log.Warn("matchmaking: ticket refused by the engine", "ticket", a.rec.ID, "err", err)
			}
			p.waiting[a.rec.ID] = w
		}
		heap.Push(&p.deadlines, deadlineItem{a.rec.ID, w.deadline})
		if a.fresh {
			fresh = append(fresh, a.rec.ID)
		}
	}
	for _, f := range calls {
		f()
	}
	var timedOut []string
	for len(p.deadlines) > 0 && !p.deadlines[0].at.After(now) {
		it := heap.Pop(&p.deadlines).(deadlineItem)
		w := p.waiter(it.id)
		if w == nil || !w.deadline.Equal(it.at) {
			continue
		}
		timedOut = append(timedOut, it.id)
		p.gone[it.id] = w
		p.drop(it.id)
	}
	type bfMatch struct {
		id string
		w  *waiter
		m  flexmatch.Match
	}
	var bms []bfMatch
	for id, w := range p.backfills {
		if p.eng.Len() == 0 {
			break // nobody to add (and flexmatch's Backfill panics on an empty pool)
		}
		m, ok, err := p.backfill(w.t, now)
		if err != nil {
			p.s.log.Warn("matchmaking: backfill request refused by the engine", "ticket", id, "err", err)
			continue
		}
		if ok {
			bms = append(bms, bfMatch{id, w, m})
			delete(p.backfills, id)
		}
	}
	if tick {
		p.rescan(now)
	}
	matches := p.eng.Cycle(now)
	p.lastCycle = now
	p.s.log.Debug("cycle", "config", p.cfg.Name, "now", now, "in", len(in), "waiting", len(p.waiting), "matches", len(matches))
	if len(fresh) == 0 && len(timedOut) == 0 && len(matches) == 0 && len(bms) == 0 {
		return
	}
	// What the pool knows of the tickets it hands the transaction.
	known := map[string]*waiter{}
	for _, id := range fresh {
		known[id] = p.waiter(id)
	}
	for _, id := range timedOut {
		known[id] = p.gone[id]
	}
	for _, m := range matches {
		for _, id := range m.TicketIDs {
			known[id] = p.waiting[id]
			delete(p.waiting, id)
		}
	}
	for _, b := range bms {
		known[b.id] = b.w
		for _, id := range b.m.TicketIDs {
			known[id] = p.waiting[id]
			delete(p.waiting, id)
		}
	}
	clear(p.gone)
	var spoiled []string
	var txt *txn
	err := p.s.cfg.Store.Update(ctx, func(w store.Writer) error {
		spoiled = spoiled[:0]
		t := p.s.newTxn(ctx, w)
		txt = t
		for _, k := range known {
			if k != nil && k.version > 0 {
				t.seed(k.rec, k.version)
			}
		}
		for _, id := range fresh {
			r, err := t.ticket(id)
			if err != nil {
				return err
			}
			if r == nil || r.Status != gamelift.TicketQueued {
				continue
			}
			r.Status = gamelift.TicketSearching
			t.changed(r)
			et, all := eventTickets([]*ticketRec{r}, false, nil, nil)
			if err := t.event(p.cfg, Detail{Type: EventSearching, Tickets: et, GameSessionInfo: GameSessionInfo{Players: all}, EstimatedWaitMillis: p.waits.millis(now)}); err != nil {
				return err
			}
		}
		for _, id := range timedOut {
			r, err := t.ticket(id)
			if err != nil {
				return err
			}
			if r == nil || (r.Status != gamelift.TicketSearching && r.Status != gamelift.TicketQueued) {
				continue
			}
			msg := "removed from matchmaking after the request timeout"
			t.end(r, gamelift.TicketTimedOut, ReasonTimedOut, msg)
			et, all := eventTickets([]*ticketRec{r}, false, nil, nil)
			if err := t.event(p.cfg, Detail{Type: EventTimedOut, Tickets: et, GameSessionInfo: GameSessionInfo{Players: all}, Reason: ReasonTimedOut, Message: msg, RuleEvaluationMetrics: ruleMetrics(p.rs)}); err != nil {
				return err
			}
			if r.Backfill {
				p.s.notifyBackfill(t, r, "BACKFILL_TIMED_OUT")
			}
		}
		for _, b := range bms {
			ok, err := t.propose(p, b.m, b.id)
			if err != nil {
				return err
			}
			if !ok {
				spoiled = append(spoiled, b.m.TicketIDs...)
				spoiled = append(spoiled, b.id)
			}
		}
		for _, m := range matches {
			ok, err := t.propose(p, m, "")
			if err != nil {
				return err
			}
			if !ok {
				spoiled = append(spoiled, m.TicketIDs...)
			}
		}
		return t.flush()
	})
	if err != nil {
		if ctx.Err() == nil {
			p.s.log.Error("matchmaking: recording a cycle failed; its tickets stay in the pool", "config", p.cfg.Name, "err", err)
		}
		// Nothing was recorded: everything the cycle took goes back.
		for _, m := range matches {
			spoiled = append(spoiled, m.TicketIDs...)
		}
		for _, b := range bms {
			spoiled = append(spoiled, b.m.TicketIDs...)
			spoiled = append(spoiled, b.id)
		}
		for _, id := range timedOut {
			spoiled = append(spoiled, id)
		}
		// Fresh tickets are still QUEUED: they come back as fresh.
		for _, id := range fresh {
			p.drop(id)
			spoiled = append(spoiled, id)
		}
		if ctx.Err() == nil {
			go p.reload(ctx, spoiled)
		}
		return
	}
	// Tickets that moved to SEARCHING and still wait keep their new version.
	for _, id := range fresh {
		if w := p.waiter(id); w != nil {
			if e := txt.tickets[id]; e != nil && !e.missing && e.version > 0 {
				w.rec, w.version = e.rec, e.version
			}
		}
	}
	if len(spoiled) > 0 {
		go p.reload(ctx, spoiled)
	}
}

// reload re-reads tickets from the store and returns the ones still
// SEARCHING to the pool.
func (p *pool) reload(ctx context.Context, ids []string) {
	var back []ticketRec
	p.s.cfg.Store.View(ctx, func(r store.Reader) error {
		back = back[:0]
		for _, id := range ids {
			rec, _, err := store.GetJSON[ticketRec](ctx, r, KindTicket, id)
			if err != nil {
				continue
			}
			if rec.Status == gamelift.TicketSearching || rec.Status == gamelift.TicketQueued {
				back = append(back, rec)
			}
		}
		return nil
	})
	for _, rec := range back {
		p.add(rec, rec.Status == gamelift.TicketQueued)
	}
}

// rescanBatch is how many waiting tickets each periodic cycle hands the
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
		if !ok || now.Sub(w.t.StartTime) < p.s.cfg.CycleInterval {
			continue
		}
		n++
		if p.eng.Remove(id) == nil {
			p.eng.Add(w.t)
		}
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

func (p *pool) waiter(id string) *waiter {
	if w, ok := p.waiting[id]; ok {
		return w
	}
	return p.backfills[id]
}

func (p *pool) drop(id string) {
	if _, ok := p.waiting[id]; ok {
		delete(p.waiting, id)
		p.eng.Remove(id)
	}
	delete(p.backfills, id)
}

// explain runs the engine's explanation of a waiting ticket.
func (p *pool) explain(ctx context.Context, id string) (flexmatch.Explanation, bool, error) {
	var x flexmatch.Explanation
	var found bool
	err := p.call(ctx, func() {
		if _, ok := p.waiting[id]; !ok {
			return
		}
		var err error
		x, err = p.eng.Explain(id, p.s.now())
		found = err == nil
	})
	return x, found, err
}

type deadlineItem struct {
	id string
	at time.Time
}

type deadlineHeap []deadlineItem

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(deadlineItem)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// waitStats keeps the waits of tickets matched in the last 10 minutes (at
// most maxWaitSamples) and their sum, so the mean that every ticket and
// MatchmakingSearching event reports costs O(1), not a pass over the window.
type waitStats struct {
	mu      sync.Mutex
	samples []waitSample // samples[head:] are in the window, oldest first
	head    int
	sum     time.Duration // of samples[head:]
}

type waitSample struct {
	at   time.Time
	wait time.Duration
}

const waitWindow, maxWaitSamples = 10 * time.Minute, 10000

func (w *waitStats) add(now time.Time, ws []time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, d := range ws {
		w.samples = append(w.samples, waitSample{now, d})
		w.sum += d
	}
	w.trimLocked(now)
}

// trimLocked drops samples older than the window, or beyond the newest
// maxWaitSamples, and compacts the slice once half of it is dropped.
func (w *waitStats) trimLocked(now time.Time) {
	for w.head < len(w.samples) && (now.Sub(w.samples[w.head].at) > waitWindow || len(w.samples)-w.head > maxWaitSamples) {
		w.sum -= w.samples[w.head].wait
		w.head++
	}
	if w.head > 0 && w.head >= len(w.samples)/2 {
		w.samples = append(w.samples[:0], w.samples[w.head:]...)
		w.head = 0
	}
}

// mean returns the mean wait, or false with fewer than 5 recent samples.
func (w *waitStats) mean(now time.Time) (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.trimLocked(now)
	n := len(w.samples) - w.head
	if n < 5 {
		return 0, false
	}
	return w.sum / time.Duration(n), true
}

func (w *waitStats) seconds(now time.Time) *int32 {
	d, ok := w.mean(now)
	if !ok {
		return nil
	}
	s := int32(d.Round(time.Second) / time.Second)
	return &s
}

func (w *waitStats) millis(now time.Time) any {
	d, ok := w.mean(now)
	if !ok {
		return "NOT_AVAILABLE"
	}
	return d.Milliseconds()
}

func secs(n int32) time.Duration { return time.Duration(n) * time.Second }
