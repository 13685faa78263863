package matchmaking

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/store"
)

// pool runs one configuration's engine. A pass (pass) decides on the
// engine's state alone (decide) and then records the decisions in one
// store transaction (record). Passes run one at a time under engMu: from
// the pool's loop goroutine (on arrivals and every CycleInterval) or from
// Process on the caller's goroutine. Other goroutines hand the pool work
// through the fields mu guards and wake the loop with kick.
type pool struct {
	s    *Service
	name string // the configuration's name and ARN, immutable
	arn  string
	// queueArns are the configuration's queues as last set, for the door
	// to ask placement about without the pass's lock.
	queueArns atomic.Pointer[[]string]
	// closed is set inside the transaction that deletes the configuration.
	closed atomic.Bool
	rs     *flexmatch.RuleSet // immutable for the pool's life
	// ruleSetName names rs; immutable.
	ruleSetName string
	// lease is the lease the pool runs under (nil: this replica runs every
	// pool): each pass's transaction checks it, so a replica that lost it
	// while paused records nothing. Immutable.
	lease *lease.Lease
	// runCtx is the context the pool runs under (the service's, or its
	// lease's), kept so that a restart with new settings runs under the
	// same one. Immutable.
	runCtx context.Context
	done   chan struct{}
	kick   chan struct{}
	quit   chan struct{}
	once   sync.Once

	waits waitStats

	// mu guards incoming, removals and newCfg. Lock order: engMu, then mu.
	mu       sync.Mutex
	incoming []arrival
	removals []string
	newCfg   *configRec

	// engMu guards the engine and the rest: the state a pass works on.
	engMu     sync.Mutex
	cfg       configRec // replaced from newCfg at the start of a pass
	eng       *flexmatch.Engine
	waiting   map[string]*waiter
	backfills map[string]*backfillWaiter
	// departed are the tickets that left recently, so that a stale copy
	// does not bring one back.
	departed  departed
	deadlines deadlineHeap
	scan      []string // rescan order
	scanAt    int
	lastCycle time.Time    // when the engine last ran
	gated     gatedMatches // matches awaiting a MatchGate (matchgate.go)
	// refused are tickets refused since the pass began (refuse.go).
	refused []refused
}

type arrival struct {
	rec     ticketRec
	version int64 // the stored version of rec; 0 when unknown
	fresh   bool  // QUEUED: moves to SEARCHING in the next pass
}

func newPool(s *Service, c configRec, rs *flexmatch.RuleSet) *pool {
	opt := s.cfg.Engine
	if !c.standalone() {
		opt.AdditionalPlayerCount = int(c.AdditionalPlayerCount)
	}
	p := &pool{s: s, name: c.Name, arn: c.ARN, cfg: c, rs: rs, ruleSetName: c.RuleSetName, eng: flexmatch.NewEngine(rs, opt), done: make(chan struct{}), kick: make(chan struct{}, 1), quit: make(chan struct{}),
		waiting: map[string]*waiter{}, backfills: map[string]*backfillWaiter{}}
	p.queueArns.Store(&c.QueueArns)
	return p
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
	p.queueArns.Store(&c.QueueArns)
	p.mu.Lock()
	p.newCfg = &c
	p.mu.Unlock()
	p.wake()
}

func (p *pool) run(ctx context.Context) {
	defer close(p.done)
	t := p.s.cfg.Clock.NewTicker(p.s.cfg.CycleInterval)
	defer t.Stop()
	tick := false
	for {
		p.pass(ctx, tick)
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

// Process runs one pass of a configuration's pool now, on the caller's
// goroutine, as the periodic pass does: it takes every ticket handed to
// the pool so far, ends those past their request timeout, runs backfill
// and the engine at the clock's time, and records the outcome before it
// returns (work the record starts after commit, such as reserving a
// backfill's player sessions, runs on its own). A pass already running
// finishes first. Tests use it instead of waiting for the loop.
func (s *Service) Process(ctx context.Context, configName string) error {
	p := s.pool(s.nameOf(gamelift.ResourceMatchmakingConfiguration, configName))
	if p == nil {
		return errors.New("matchmaking: configuration " + configName + " has no running pool")
	}
	select {
	case <-p.quit:
		return errors.New("matchmaking: the configuration's pool stopped")
	default:
	}
	p.pass(ctx, true)
	return nil
}

// pass runs one pass: decide, then record. On a tick it also rescans
// waiting tickets (see rescan).
func (p *pool) pass(ctx context.Context, tick bool) {
	p.engMu.Lock()
	defer p.engMu.Unlock()
	d := p.decide(p.take(), p.s.now(), tick)
	p.dispatch(ctx)
	if d.empty() {
		return
	}
	t, spoiled, err := p.record(ctx, d)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, lease.ErrLost) {
			// Another replica owns the pool now: this one stops at once,
			// recording nothing, and its lease manager ends its work.
			p.s.log.Warn("matchmaking: the pool's lease moved on; stopping it", "config", p.cfg.Name, "err", err)
			p.stop()
			return
		}
		p.s.log.Error("matchmaking: recording a pass failed; its tickets stay in the pool", "config", p.cfg.Name, "err", err)
		// Nothing was recorded: everything the pass took goes back, and
		// fresh tickets, still QUEUED, come back as fresh.
		for _, id := range d.fresh {
			p.drop(id)
		}
		spoiled = d.ticketIDs()
	} else {
		p.leave(d, t)
		// Tickets that moved to SEARCHING and still wait keep their new
		// version.
		for _, id := range d.fresh {
			if w := p.waiter(id); w != nil {
				if e := t.tickets[id]; e != nil && !e.missing && e.version > 0 {
					p.keep(w, &e.rec, e.version)
				}
			}
		}
	}
	if len(spoiled) > 0 {
		p.reload(ctx, spoiled)
	}
}

// take hands a pass what other goroutines gave the pool since the last
// one.
func (p *pool) take() inputs {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := inputs{arrivals: p.incoming, removals: p.removals}
	p.incoming, p.removals = nil, nil
	if p.newCfg != nil {
		p.cfg, p.newCfg = *p.newCfg, nil
	}
	return in
}

// reload re-reads tickets from the store and returns the ones still
// SEARCHING (or QUEUED) to the pool for the next pass.
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

func (p *pool) waiter(id string) *waiter {
	if w, ok := p.waiting[id]; ok {
		return w
	}
	if b, ok := p.backfills[id]; ok {
		return &b.waiter
	}
	return nil
}

func (p *pool) drop(id string) {
	if _, ok := p.waiting[id]; ok {
		delete(p.waiting, id)
		p.eng.Remove(id)
	}
	delete(p.backfills, id)
}

// explain runs the engine's explanation of a waiting ticket; false when
// the ticket is not (or not yet) in the engine.
func (p *pool) explain(id string) (flexmatch.Explanation, bool) {
	p.engMu.Lock()
	defer p.engMu.Unlock()
	if _, ok := p.waiting[id]; !ok {
		return flexmatch.Explanation{}, false
	}
	x, err := p.eng.Explain(id, p.s.now())
	return x, err == nil
}

type deadlineItem struct {
	id string
	at int64 // Unix nanoseconds
}

type deadlineHeap []deadlineItem

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(deadlineItem)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

var _ heap.Interface = (*deadlineHeap)(nil)
