package flexmatch

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// ErrDuplicateTicket is returned by Add for a ticket ID already waiting.
var ErrDuplicateTicket = errors.New("flexmatch: ticket already in the pool")

// ErrUnknownTicket is returned for a ticket ID that is not waiting.
var ErrUnknownTicket = errors.New("flexmatch: no such ticket in the pool")

// TicketError says what is wrong with a ticket given to Add or Backfill.
type TicketError struct {
	Path   string // e.g. "players[0].attributes.skill"
	Reason string
}

// Error formats the error as "flexmatch: PATH: reason".
func (e *TicketError) Error() string { return "flexmatch: " + e.Path + ": " + e.Reason }

// Options tune an Engine. The zero value selects the defaults.
type Options struct {
	// BatchSize is the most candidates considered around one anchor
	// (default 500; docs/flexmatch.md).
	BatchSize int
	// ExactSearchTickets is the largest partition solved exactly (default
	// 12; negative disables exact search).
	ExactSearchTickets int
	// AdditionalPlayerCount slots are kept empty in every match, taken from
	// the last team first (docs/flexmatch.md, "Empty slots").
	AdditionalPlayerCount int
	// Revisit is how many waiting tickets each cycle re-tries as anchors,
	// round robin, besides new and step-changed ones (default 0). Greedy
	// building can miss a valid match when tickets arrive in an unlucky
	// order; revisiting finds it without waiting for the next step.
	Revisit int
}

type locMs struct {
	loc uint8
	ms  float32
}

type wplayer struct {
	id    string
	attrs []attrVal
}

// wticket is a waiting ticket in the engine's compact form.
type wticket struct {
	id       string
	seq      uint64
	start    int64 // unix nanoseconds
	players  []wplayer
	team     int    // required slot or -1
	never    string // why the ticket can never match; "" when it can
	key      float64
	sub      float64 // the remaining sort attributes under "sorted" batching (sortkey.go)
	part     *partition
	net      *netInfo // latencies; nil when the ticket reports none and no latency rule applies
	reach    bits     // locations eligible at the loosest expansion
	wake     int64    // next expansion boundary, 0 when none
	used     bool     // placed in a match during the current cycle
	slot     uint32   // in the engine's table while indexed
	cycle    uint32   // the cycle in which it arrived
	dirty    bool
	backfill bool
	woke     bool // dirty because an expansion step started, not because it arrived
	cohort   bool // anchors this cycle in a partition of tickets that all arrived together
}

// netInfo holds a ticket's latencies apart from the ticket, so that tickets
// of rule sets without latency do not carry them.
type netInfo struct {
	lat    [][]locMs // per latency rule, aggregated per location
	rep    []locMs   // average latency per location reported by every player
	repMax []float32 // worst player latency per location in rep

	mask    bits // cached eligible locations of the first latency rule
	maskFor float64
	maskOK  bool
}

// reported returns the average latency per location reported by every
// player, and the worst player's, parallel.
func (t *wticket) reported() ([]locMs, []float32) {
	if t.net == nil {
		return nil, nil
	}
	return t.net.rep, t.net.repMax
}

func (t *wticket) latAt(li, loc int) float64 {
	for _, l := range t.net.lat[li] {
		if int(l.loc) == loc {
			return float64(l.ms)
		}
	}
	return math.Inf(1)
}

type partition struct {
	name   string
	idx    index
	dirty  bool
	greedy bool // exact search gave up this cycle
	solved bool // exact search ran this cycle
	// cohortStart and cohortN count the cycle's anchors in the partition
	// while they share one start time; cohortN is -1 once they do not.
	cohortStart int64
	cohortN     int
}

// oldest returns the start time of the partition's oldest ticket; it walks
// the whole index, so it is for the small partitions the exact search takes.
func (p *partition) oldest() int64 {
	oldest := int64(math.MaxInt64)
	for _, c := range p.idx.chunks {
		for i := range c {
			oldest = min(oldest, c[i].start)
		}
	}
	return oldest
}

// Engine forms matches from a pool of waiting tickets under one rule set.
// It is not safe for concurrent use: one goroutine owns it.
type Engine struct {
	rs       *RuleSet
	opt      Options
	tickets  map[string]*wticket
	parts    map[string]*partition
	partList []*partition
	locs     map[string]int
	locNames []string
	seq      uint64
	dirty    []*wticket
	wakes    wakeHeap
	chk      checker
	c        cand
	cands    []*wticket
	rejected []*wticket
	spare    []*wticket // the previous cycle's dirty list, reused
	cycleNo  uint32     // number of the next cycle
	sized    int        // level slotMin/slotMax were computed for, or -1
	order2   []*wticket
	blocked  []int // failures per rule
	sortKeys []sortKey
	order    []int
	slotMin  []int
	slotMax  []int

	keyAttr    int    // -1: key is ticket age
	windows    []int  // parameters bounding |key − anchor key| (batchDistance, spread rules)
	windowRule []bool // per rule: it is one of the window rules
	keyBuf     []keyCount
	backfills  []backfillReq // registered backfill requests, oldest first
	bfNext     int           // backfills[:bfNext] were tried this cycle
	// poolChanges counts changes to the pool: cycles that began with
	// tickets that arrived, woke to a new expansion step or were revisited,
	// and tickets that left. A backfill request that failed can succeed
	// again only after one of those, or after its own step changed.
	poolChanges uint64
	tab         table
	out         outSlab
	locCount    []int32
	locOrder    []int
	allCands    []*wticket // gathered candidates before filtering by location
	allEntries  []entry
	ring        []*wticket // waiting tickets in arrival order, for Revisit
	ringAt      int
	centries    []entry // the candidates' index entries, parallel to cands
	large       largeState
	latRules    []int
	loosest     []float64
	teamMax     int
	stats       Stats
	slab        slab
	sort        sortPlan
	tupleBuf    []byte
	// upward makes gather take the candidates above the anchor's key
	// before those below it (see sweeps).
	upward bool
	// batchOf is the anchor whose batch e.cands holds while cycleLarge
	// tries its locations.
	batchOf *wticket
	// hopeless says that the last buildNear failed for want of players in
	// reach, whatever their order.
	hopeless bool
	// shortOfLower says a complete candidate of the running build fell
	// short of a lower bound: the build refills past maxRounds, as tickets
	// further out may reach it (buildFrom).
	shortOfLower bool
	// gathering is the state of the current gather; streaming says that
	// buildFrom may extend it with more (see streams).
	gathering   gathering
	streaming   bool
	sortRules   bool       // the rule set has sort rules, which reorder each batch
	dirtyKeys   []dirtyKey // sortDirty's scratch
	dirtySorted []*wticket
	matched     []*wticket // matched this pass, still in tickets (dropMatched)
	// exactChecked is the exact search's scratch, kept between searches.
	exactChecked []bool
}

// Stats counts engine work since it was created.
type Stats struct {
	Cycles      int
	Anchors     int
	Evaluations int
	Matches     int
	Tickets     int
	// BackfillAttempts counts tries of registered backfill requests; a
	// request is tried again only when the pool or its step changed.
	BackfillAttempts int
	// Blocked counts, per rule name, how often the rule refused a ticket.
	Blocked map[string]int
}

// NewEngine returns an engine with an empty pool.
func NewEngine(rs *RuleSet, opt Options) *Engine {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 500
	}
	if opt.ExactSearchTickets == 0 {
		opt.ExactSearchTickets = 12
	}
	e := &Engine{rs: rs, opt: opt, tickets: map[string]*wticket{}, parts: map[string]*partition{}, locs: map[string]int{}, keyAttr: -1}
	e.chk.rs = rs
	e.chk.ev.rs = rs
	e.sized = -1
	defer func() { e.chk.keyAttr = e.keyAttr }()
	e.blocked = make([]int, len(rs.rules))
	e.loosest = make([]float64, len(rs.params))
	for p := range rs.params {
		e.loosest[p] = math.NaN()
		for _, lv := range rs.levels {
			v := lv[p]
			if isNaN(v) {
				continue
			}
			if isNaN(e.loosest[p]) || v > e.loosest[p] {
				e.loosest[p] = v
			}
		}
	}
	for _, d := range rs.defs {
		e.teamMax = max(e.teamMax, int(e.loosest[d.pMax]))
	}
	for ri, r := range rs.rules {
		switch r.kind {
		case rkLatency:
			e.latRules = append(e.latRules, ri) // r.attr holds this ordinal (finishRules)
		case rkBatchDistance:
			if !r.strAttr && e.keyAttr < 0 {
				e.keyAttr = r.attr
			}
		}
		e.sortRules = e.sortRules || r.kind.isSort()
	}
	if e.keyAttr < 0 {
		for _, r := range rs.rules {
			if r.spread >= 0 {
				e.keyAttr = r.spread
				break
			}
		}
	}
	if e.keyAttr < 0 && rs.algo.batching == "sorted" && len(rs.algo.sortBy) > 0 && rs.attrs[rs.algo.sortBy[0]].Type == AttrNumber {
		e.keyAttr = rs.algo.sortBy[0]
	}
	if e.keyAttr < 0 {
		for _, r := range rs.rules {
			if r.kind == rkDistance && r.meas != nil {
				if ai := numAttr(r.meas, rs); ai >= 0 {
					e.keyAttr = ai
					break
				}
			}
		}
	}
	e.planSort()
	if len(e.latRules) == 1 {
		e.chk.reachOne, e.chk.reachLat = true, e.loosest[rs.rules[e.latRules[0]].pMaxLat]
	}
	e.windowRule = make([]bool, len(rs.rules))
	if e.keyAttr >= 0 {
		for ri, r := range rs.rules {
			if r.kind == rkBatchDistance && !r.strAttr && r.attr == e.keyAttr && r.agg == aggAvg ||
				r.spread >= 0 && r.spread == e.keyAttr {
				e.windows = append(e.windows, r.pHi)
				e.windowRule[ri] = true
			}
		}
	}
	n := len(rs.slots)
	e.slotMin, e.slotMax = make([]int, n), make([]int, n)
	e.order = make([]int, n)
	return e
}

// spreadRule recognises a standalone distance rule that bounds the spread of
// one number attribute over the whole match: max(flatten(A)) against
// min(flatten(A)) (either way round) with maxDistance. Such a rule means no
// ticket can join a match whose anchor is further than maxDistance away in
// that attribute, which lets the engine stop scanning candidates early.
func spreadRule(r *rule, rs *RuleSet) (int, bool) {
	if r.kind != rkDistance || r.inCompound || r.agg != aggAvg || r.meas == nil || r.ref == nil || isNaN(rs.params[r.pHi]) {
		return -1, false
	}
	a, fa := flatAttr(r.meas)
	b, fb := flatAttr(r.ref)
	if a < 0 || a != b || rs.attrs[a].Type != AttrNumber || !(fa == fnMax && fb == fnMin || fa == fnMin && fb == fnMax) {
		return -1, false
	}
	return a, true
}

// flatAttr matches FN(flatten(teams[*].players.attributes[A])), over every
// team slot, and returns A and FN. A selector of some teams only does not
// qualify: it leaves the other teams free to hold any value.
func flatAttr(x *expr) (int, funcKind) {
	if x.kind != exFunc || x.arg == nil || x.arg.kind != exFunc || x.arg.fn != fnFlatten {
		return -1, fnNone
	}
	sel := x.arg.arg
	if sel == nil || sel.kind != exSel || sel.what != selAttr || !sel.multi || !allSlots(sel) {
		return -1, fnNone
	}
	return sel.attr, x.fn
}

// numAttr finds the first number attribute an expression reads.
func numAttr(x *expr, rs *RuleSet) int {
	for ; x != nil; x = x.arg {
		if x.kind == exSel && x.what == selAttr && rs.attrs[x.attr].Type == AttrNumber {
			return x.attr
		}
	}
	return -1
}

// RuleSet returns the engine's rule set.
func (e *Engine) RuleSet() *RuleSet { return e.rs }

// Len returns the number of waiting tickets.
func (e *Engine) Len() int { return len(e.tickets) - len(e.matched) }

// Stats returns counters of the work done so far.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Blocked = map[string]int{}
	for i, n := range e.blocked {
		if n > 0 {
			s.Blocked[e.rs.rules[i].name] = n
		}
	}
	return s
}

// Add puts a ticket in the pool. It fails with ErrDuplicateTicket or a
// *TicketError; a ticket that can never match (say, a missing attribute with
// no default) is accepted and waits, and Explain says why.
func (e *Engine) Add(t Ticket) error {
	if t.ID == "" {
		return &TicketError{Path: "ticketId", Reason: "is required"}
	}
	if _, ok := e.tickets[t.ID]; ok {
		return fmt.Errorf("%w: %s", ErrDuplicateTicket, t.ID)
	}
	wt, err := e.compile(t, false)
	if err != nil {
		return err
	}
	e.insert(wt)
	return nil
}

// Never returns why a waiting ticket can never match (a player lacks an
// attribute with no default, the party is larger than every team, no
// location is ever within its latency), or "" when it can, or when the
// ticket is not in the pool. The reason holds for the ticket's whole life:
// it depends only on the ticket and the rule set.
func (e *Engine) Never(id string) string {
	if t, ok := e.tickets[id]; ok {
		return t.never
	}
	return ""
}

// Revisit has the next Cycle try a waiting ticket as an anchor again, as
// if it had just arrived (what Options.Revisit does round robin); false
// when the ticket is not waiting.
func (e *Engine) Revisit(id string) bool {
	t, ok := e.tickets[id]
	if !ok || t.used || t.never != "" {
		return false
	}
	if !t.dirty {
		t.dirty = true
		e.dirty = append(e.dirty, t)
	}
	return true
}

func (e *Engine) insert(wt *wticket) {
	e.tickets[wt.id] = wt
	if wt.never != "" {
		return
	}
	if e.opt.Revisit > 0 {
		e.ring = append(e.ring, wt)
	}
	e.holdSortCodes(wt)
	e.tab.put(wt)
	wt.cycle = e.cycleNo
	wt.part.idx.insert(wt)
	wt.dirty = true
	e.dirty = append(e.dirty, wt)
}

// Remove takes a ticket out of the pool (cancelled, timed out).
func (e *Engine) Remove(id string) error {
	t, ok := e.tickets[id]
	if !ok {
		if e.removeBackfill(id) {
			return nil
		}
		return ErrUnknownTicket // unwrapped: callers remove matched tickets often
	}
	e.drop(t)
	return nil
}

func (e *Engine) drop(t *wticket) {
	delete(e.tickets, t.id)
	e.leave(t)
}

// dropMatched takes a matched ticket out of the pool but leaves it in the
// ID map until forgetMatched, which removes a pass's matched tickets at
// the cost of the fewer of them and the tickets left waiting.
func (e *Engine) dropMatched(t *wticket) {
	e.matched = append(e.matched, t)
	e.leave(t)
}

// forgetMatched removes the matched tickets from the ID map: one by one,
// or by copying the waiting ones into a new map when a pass matched most
// of the pool.
func (e *Engine) forgetMatched() {
	if live := len(e.tickets) - len(e.matched); len(e.matched) > live {
		m := make(map[string]*wticket, live)
		for id, t := range e.tickets {
			if !t.used {
				m[id] = t
			}
		}
		e.tickets = m
	} else {
		for _, t := range e.matched {
			delete(e.tickets, t.id)
		}
	}
	clear(e.matched)
	e.matched = e.matched[:0]
}

func (e *Engine) leave(t *wticket) {
	e.poolChanges++ // a gone ticket can let another into a candidate batch
	if t.never == "" {
		t.part.idx.remove(t)
		e.tab.release(t)
		e.releaseSortCodes(t)
	}
	t.used = true
}

// wake scheduling

type wakeItem struct {
	at int64
	t  *wticket
}

// wakeHeap is a min-heap of wake times; it avoids container/heap so that
// scheduling allocates nothing once grown.
type wakeHeap []wakeItem

func (h *wakeHeap) push(w wakeItem) {
	*h = append(*h, w)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p].at <= a[i].at {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *wakeHeap) pop() wakeItem {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a[n] = wakeItem{}
	a = a[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && a[l].at < a[m].at {
			m = l
		}
		if r < n && a[r].at < a[m].at {
			m = r
		}
		if m == i {
			break
		}
		a[m], a[i] = a[i], a[m]
		i = m
	}
	*h = a
	return top
}

// schedule arranges for t to be tried again when its next expansion step
// starts.
func (e *Engine) schedule(t *wticket, now int64) {
	age := float64(now-t.start) / 1e9
	i := sort.Search(len(e.rs.waits), func(i int) bool { return e.rs.waits[i] > age })
	if i == len(e.rs.waits) {
		t.wake = 0
		return
	}
	at := t.start + int64(e.rs.waits[i]*1e9)
	if t.wake == at {
		return
	}
	t.wake = at
	e.wakes.push(wakeItem{at: at, t: t})
}

// revisit marks up to Options.Revisit waiting tickets dirty, round robin,
// as if they had just arrived, compacting the ring as it goes.
func (e *Engine) revisit() {
	if e.opt.Revisit <= 0 {
		return
	}
	if e.ringAt >= len(e.ring) || len(e.ring) > 2*len(e.tickets)+1024 {
		// Compact: drop matched and removed tickets, keep the position.
		live, at := e.ring[:0], 0
		for i, t := range e.ring {
			if i == e.ringAt {
				at = len(live)
			}
			if !t.used {
				live = append(live, t)
			}
		}
		if e.ringAt >= len(e.ring) {
			at = 0
		}
		clear(e.ring[len(live):])
		e.ring, e.ringAt = live, at
	}
	for n := 0; n < e.opt.Revisit && e.ringAt < len(e.ring); e.ringAt++ {
		t := e.ring[e.ringAt]
		if t.used || t.dirty {
			continue
		}
		t.dirty = true
		e.dirty = append(e.dirty, t)
		n++
	}
}

// solveSmall runs the exact search on a partition of at most
// ExactSearchTickets tickets; when it exceeds its budget the partition is
// marked for the greedy builder.
func (e *Engine) solveSmall(p *partition, now time.Time, backfillsFirst bool, out []Match) []Match {
	if !backfillsFirst && e.rs.algo.backfillPriority == "normal" {
		// The exact search takes the partition at once, so requests older
		// than its oldest ticket go before it.
		out = e.runBackfills(now, p.oldest(), out)
	}
	out, ok := e.exact(p, now.UnixNano(), out)
	p.solved, p.greedy = ok, !ok
	return out
}

// Cycle runs one matchmaking pass at time now and returns the matches formed.
// Their tickets leave the pool.
func (e *Engine) Cycle(now time.Time) []Match {
	n := now.UnixNano()
	e.stats.Cycles++
	for len(e.wakes) > 0 && e.wakes[0].at <= n {
		w := e.wakes.pop()
		t := w.t
		if t.used || t.wake != w.at || t.dirty {
			continue
		}
		t.dirty, t.woke = true, true
		e.dirty = append(e.dirty, t)
	}
	e.revisit()
	dirty := e.dirty
	e.dirty = e.spare[:0]
	keyed := len(e.windows) > 0
	if keyed {
		e.markCohorts(dirty)
	}
	e.sortDirty(dirty)
	var out []Match
	for _, t := range dirty {
		if !t.used {
			t.part.dirty = true
		}
	}
	if len(dirty) > 0 {
		e.poolChanges++
	}
	e.bfNext = 0
	first := len(e.backfills) > 0 && (e.rs.algo.backfillPriority == "high" || e.rs.large && e.rs.algo.backfillPriority != "low")
	if first {
		out = e.runBackfills(now, math.MaxInt64, out)
	}
	if e.rs.large {
		out = e.cycleLarge(dirty, n, out)
	} else {
		for _, p := range e.partList {
			p.greedy, p.solved = false, false
			if p.dirty && p.idx.n <= e.opt.ExactSearchTickets {
				out = e.solveSmall(p, now, first, out)
			}
		}
		for _, t := range dirty {
			if !first && e.rs.algo.backfillPriority == "normal" {
				// Request type is ignored: older backfill requests go first.
				out = e.runBackfills(now, t.start, out)
			}
			// A partition the greedy pass shrinks to the exact search's
			// size is left to that search, below.
			if t.used || t.part.solved || t.part.idx.n <= e.opt.ExactSearchTickets && !t.part.greedy {
				continue
			}
			e.stats.Anchors++
			if e.buildAround(t, n) {
				out = append(out, e.emit(n))
			}
		}
		gaveUp := false
		for _, p := range e.partList {
			if p.dirty && !p.solved && !p.greedy && p.idx.n > 0 && p.idx.n <= e.opt.ExactSearchTickets {
				out = e.solveSmall(p, now, first, out)
				gaveUp = gaveUp || p.greedy
			}
		}
		if gaveUp {
			// The exact search gave up on what the greedy pass left: its
			// anchors that remain get their greedy turn after all.
			out = e.anchor(dirty, n, func(t *wticket) bool { return t.part.greedy }, out)
		}
	}
	if !first {
		out = e.runBackfills(now, math.MaxInt64, out)
	}
	live := e.partList[:0]
	for _, p := range e.partList {
		p.dirty = false
		if p.idx.n == 0 && p.name != "" {
			delete(e.parts, p.name) // a later ticket makes a new one
			continue
		}
		live = append(live, p)
	}
	clear(e.partList[len(live):])
	e.partList = live
	for _, t := range dirty {
		t.dirty, t.woke, t.cohort = false, false, false
		if !t.used {
			e.schedule(t, n)
		}
	}
	clear(dirty)
	e.spare = dirty[:0]
	e.cycleNo++
	e.forgetMatched()
	return out
}

// markCohorts marks the anchors of partitions whose waiting tickets all
// arrived together: every one is an anchor of this cycle with the same
// start time, as in a first pass over fresh tickets. Only there is what lies
// below an anchor in the key what the pass could not match (see sweeps); a
// partition with older tickets keeps its nearest-first batches, so the
// oldest tickets wait no longer than they did.
func (e *Engine) markCohorts(dirty []*wticket) {
	for _, t := range dirty {
		t.part.cohortN = 0
	}
	for _, t := range dirty {
		p := t.part
		switch {
		case t.used || t.woke || p.cohortN < 0:
		case p.cohortN == 0 || p.cohortStart == t.start:
			p.cohortStart = t.start
			p.cohortN++
		default:
			p.cohortN = -1
		}
	}
	for _, t := range dirty {
		t.cohort = !t.used && t.part.cohortN == t.part.idx.n
	}
}

// anchor builds around each ticket of dirty that is still waiting and that
// take accepts, in order.
func (e *Engine) anchor(dirty []*wticket, now int64, take func(*wticket) bool, out []Match) []Match {
	for _, t := range dirty {
		if t.used || !take(t) {
			continue
		}
		e.stats.Anchors++
		if e.buildAround(t, now) {
			out = append(out, e.emit(now))
		}
	}
	return out
}

type dirtyKey struct {
	start int64
	key   float64
	seq   uint64
	i     int // position in the unsorted list
}

// sortDirty orders the cycle's anchors oldest first and, in a partition
// whose tickets all arrived together (markCohorts), in ascending key, so
// the pass sweeps it upward (see sweeps); remaining ties go by arrival. It
// sorts keys copied out of the tickets, without pointers, so comparisons
// read no ticket and moves need no write barriers.
func (e *Engine) sortDirty(dirty []*wticket) {
	ks := e.dirtyKeys[:0]
	for i, t := range dirty {
		k := dirtyKey{start: t.start, seq: t.seq, i: i}
		if t.cohort {
			k.key = t.key
		}
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b dirtyKey) int {
		if a.start != b.start {
			return cmp.Compare(a.start, b.start)
		}
		if a.key != b.key {
			return cmp.Compare(a.key, b.key)
		}
		return cmp.Compare(a.seq, b.seq)
	})
	sorted := append(e.dirtySorted[:0], dirty...)
	for j := range ks {
		dirty[j] = sorted[ks[j].i]
	}
	clear(sorted)
	e.dirtyKeys, e.dirtySorted = ks[:0], sorted[:0]
}
