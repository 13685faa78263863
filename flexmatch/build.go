package flexmatch

import (
	"cmp"
	"math"
	mathbits "math/bits"
	"slices"
)

// setLevel computes the expansion level of the potential match from its
// newest (or oldest) ticket and the effective team sizes at that level.
func (e *Engine) setLevel(now int64) {
	c := &e.c
	if len(c.members) == 0 {
		c.level, c.params = 0, e.rs.levels[0]
		e.sizes(c.params)
		return
	}
	ref := c.newest
	if e.rs.algo.expansionOldest {
		ref = c.oldest
	}
	// Members appended without push (trials) are not in the bounds yet.
	for _, t := range c.members[len(c.slots):] {
		if e.rs.algo.expansionOldest {
			ref = min(ref, t.start)
		} else {
			ref = max(ref, t.start)
		}
	}
	c.level = e.rs.level(float64(now-ref) / 1e9)
	c.params = e.rs.levels[c.level]
	if e.sized != c.level {
		e.sizes(c.params)
		e.sized = c.level
	}
}

// sizes fills slotMin and slotMax for the given parameters, taking
// AdditionalPlayerCount slots from the last team first.
func (e *Engine) sizes(params []float64) {
	e.sized = -1
	for i, s := range e.rs.slots {
		d := e.rs.defs[s.def]
		e.slotMin[i] = int(params[d.pMin])
		e.slotMax[i] = int(params[d.pMax])
	}
	extra := e.opt.AdditionalPlayerCount
	for i := len(e.slotMax) - 1; i >= 0 && extra > 0; i-- {
		take := min(extra, e.slotMax[i]-1)
		e.slotMax[i] -= take
		extra -= take
		e.slotMin[i] = min(e.slotMin[i], e.slotMax[i])
	}
}

// full reports whether every team is at its maximum.
func (e *Engine) full() bool {
	for i, n := range e.c.counts {
		if n < e.slotMax[i] {
			return false
		}
	}
	return true
}

// place tries to add t to the potential match on the best team where every
// rule still passes (team choice: docs/flexmatch.md, "Forming matches of up to 40 players").
func (e *Engine) place(t *wticket, now int64) bool {
	c := &e.c
	c.members = append(c.members, t)
	e.setLevel(now)
	c.members = c.members[:len(c.members)-1]
	ord := e.order[:0]
	for i := range e.rs.slots {
		if t.team >= 0 && t.team != i {
			continue
		}
		if c.counts[i]+len(t.players) > e.slotMax[i] {
			continue
		}
		ord = append(ord, i)
	}
	slices.SortStableFunc(ord, func(a, b int) int {
		ba, bb := c.counts[a] < e.slotMin[a], c.counts[b] < e.slotMin[b]
		if ba != bb {
			if ba {
				return -1
			}
			return 1
		}
		return cmp.Compare(e.slotMax[b]-c.counts[b], e.slotMax[a]-c.counts[a])
	})
	for _, s := range ord {
		c.push(t, s)
		e.stats.Evaluations++
		if e.chk.check(c, false) {
			return true
		}
		c.pop()
		if e.rs.agnostic {
			break // another team cannot change the outcome
		}
	}
	if len(ord) == 0 {
		e.chk.fail = failure{rule: -1, text: "no team has room for the ticket"}
	}
	e.setLevel(now)
	return false
}

// sizesOK reports whether every team is within its effective bounds.
func (e *Engine) sizesOK() bool {
	for i, n := range e.c.counts {
		if n < e.slotMin[i] || n > e.slotMax[i] {
			return false
		}
	}
	return true
}

// finish turns the potential match into a valid match or reports failure,
// dropping tickets as docs/flexmatch.md ("Evaluating rules", "Expansions") describes: the newest ticket
// when team minimums fail (its age may hold the others back), else the most
// recently added one. The first keep members are never dropped.
func (e *Engine) finish(now int64, keep int) bool {
	c := &e.c
	for {
		e.setLevel(now)
		minOK := e.sizesOK()
		if len(c.members) > c.backfill {
			teamsMatter := true
			if minOK {
				e.stats.Evaluations++
				if e.chk.check(c, true) {
					return true
				}
				e.shortOfLower = e.shortOfLower || e.chk.fail.lower
				e.block()
				// A rule that reads the match regardless of teams fails
				// under every other split of the same tickets too.
				fr := e.chk.fail.rule
				teamsMatter = fr < 0 || !e.rs.rules[fr].agnostic
			}
			if teamsMatter && e.reassign(now) {
				return true
			}
		}
		if len(c.members) <= keep {
			return false
		}
		if minOK {
			c.pop()
			continue
		}
		newest := keep
		for i := keep; i < len(c.members); i++ {
			t, n := c.members[i], c.members[newest]
			if t.start > n.start || t.start == n.start && t.seq > n.seq {
				newest = i
			}
		}
		c.removeAt(newest)
	}
}

// maxRounds caps how often a failed candidate is cut back and refilled.
const maxRounds = 8

// buildAround builds a potential match around anchor a. An arrived anchor
// under a window rule looks upward first (see sweeps) and, failing that, at
// its nearest candidates both ways.
func (e *Engine) buildAround(a *wticket, now int64) bool {
	if !e.sweeps(a) {
		return e.buildNear(a, now)
	}
	e.upward = true
	ok := e.buildNear(a, now)
	e.upward = false
	// Another order of the same candidates cannot help when too few of
	// them can play with the anchor at all.
	return ok || !e.hopeless && e.buildNear(a, now)
}

// sweeps reports whether anchor a takes its candidates upward in the key
// first: it is one of a partition whose tickets all arrived together
// (markCohorts). Anchors of equal start time are tried in ascending key
// order (Cycle), so what lies below such an anchor in the key is what
// earlier anchors of the pass could not use: its best match is then the run
// of tickets just above it, as a sort-and-cut over the key would take, which
// leaves no fragment below it that the pass could still have matched.
func (e *Engine) sweeps(a *wticket) bool {
	return a.cohort && !a.woke && !a.backfill && !e.chk.explain
}

// buildNear builds a potential match around anchor a from the candidates
// gather orders. With latency rules it tries the locations its candidates
// share with it, most popular first (see focusOrder).
//
// It sets hopeless when it fails because the anchor's whole batch, in any
// order, holds too few players for a match.
func (e *Engine) buildNear(a *wticket, now int64) bool {
	c := &e.c
	c.reset(len(e.rs.slots))
	e.hopeless = true
	if !e.place(a, now) {
		e.block()
		return false
	}
	if e.streams() {
		// Without a location to choose or an order to impose, the build
		// takes candidates as they come; enough's count would cost more
		// than the candidates it saves, as the window bounds the build.
		e.startGather(a, a.key, now)
		e.streaming = true
		need := e.need(a, now)
		e.fill(2*need + 4)
		ok := e.buildFrom(a, now)
		e.streaming = false
		if !ok {
			players := len(a.players)
			for i := range e.centries {
				players += int(e.centries[i].n)
			}
			e.hopeless = e.gathering.exhausted && players < need
		}
		return ok
	}
	if small := 8*e.need(a, now) + 16; !e.sortRules && small < e.opt.BatchSize {
		// The nearest few candidates usually hold a match; the whole
		// batch is gathered, and its locations ranked, only when they do
		// not.
		e.startGather(a, a.key, now)
		e.fill(small)
		if ok := e.buildBatch(a, now); ok || e.gathering.exhausted {
			return ok
		}
		c.reset(len(e.rs.slots))
		e.place(a, now) // as it did above: the pool has not changed
	}
	e.gather(a, a.key, now)
	return e.buildBatch(a, now)
}

// buildBatch builds a match around the placed anchor from the gathered
// candidates, location by location under latency rules (see focusOrder).
func (e *Engine) buildBatch(a *wticket, now int64) bool {
	c := &e.c
	whole := e.gathering.exhausted // the batch is every candidate in reach
	locs := e.focusOrder(a)
	if len(locs) == 0 {
		if !e.enough(a, now) {
			e.hopeless = whole
			return false
		}
		e.hopeless = false
		return e.buildFrom(a, now)
	}
	e.hopeless = whole
	all := append(e.allCands[:0], e.cands...)
	allE := append(e.allEntries[:0], e.centries...)
	e.allCands, e.allEntries = all, allE
	need := e.need(a, now)
	for _, l := range locs {
		if int(e.locCount[l])+len(a.players) < need {
			continue // too few players can play there
		}
		e.cands, e.centries = e.cands[:0], e.centries[:0]
		for i := range allE {
			if allE[i].reach.has(l) {
				e.cands, e.centries = append(e.cands, all[i]), append(e.centries, allE[i])
			}
		}
		if !e.enough(a, now) {
			continue
		}
		e.hopeless = false
		c.reset(len(e.rs.slots))
		if e.place(a, now) && e.buildFrom(a, now) {
			return true
		}
	}
	return false
}

// buildFrom fills the potential match holding the anchor from the gathered
// candidates. Candidates refused on the partial match are tried once more
// after the first pass, and a candidate that fails when complete is cut back
// and refilled from the remaining candidates.
func (e *Engine) buildFrom(a *wticket, now int64) bool {
	rej := e.rejected[:0]
	i, retried := 0, false
	e.shortOfLower = false
	for round := 0; ; round++ {
		placed := false
		// A candidate refused by a window rule (a spread rule or numeric
		// batchDistance on the key) proves that every candidate further out
		// on its side is refused too: the match's key range only grows, and
		// a newer candidate only tightens the step.
		lstop, rstop := math.Inf(-1), math.Inf(1)
		for ; (i < len(e.cands) || e.more()) && !e.full(); i++ {
			if k := e.centries[i].key; k <= lstop || k >= rstop {
				continue // decided from the index entry, without touching the ticket
			}
			t := e.cands[i]
			if e.place(t, now) {
				placed = true
				continue
			}
			e.block()
			rej = append(rej, t)
			if fr := e.chk.fail.rule; fr >= 0 && e.windowRule[fr] && t.start <= a.start {
				if t.key < a.key {
					lstop = max(lstop, t.key)
				} else if t.key > a.key {
					rstop = min(rstop, t.key)
				}
			}
		}
		if !retried && placed && !e.full() && len(rej) > 0 {
			retried = true
			for _, t := range rej {
				if e.full() {
					break
				}
				e.place(t, now)
			}
		}
		e.rejected = rej[:0]
		if e.finish(now, 1) {
			return true
		}
		if i >= len(e.cands) && !e.more() || round >= maxRounds && !e.shortOfLower || round >= e.opt.BatchSize {
			return false
		}
	}
}

// focusOrder lists the locations the anchor's candidates share with it,
// most players first (largestPopulation, applied to small
// matches as a Muster choice). Building per location keeps the first few
// candidates from picking the location by accident, which made later ones
// fail the latency rule one by one. It reads only index entries and returns
// nil without latency rules.
func (e *Engine) focusOrder(a *wticket) []int {
	if len(e.latRules) == 0 || len(e.centries) == 0 {
		return nil
	}
	nl := len(e.locNames)
	count := e.locCount[:0]
	for range nl {
		count = append(count, 0)
	}
	e.locCount = count
	for i := range e.centries {
		r := e.centries[i].reach.and(a.reach)
		for w := range 2 {
			for b := r[w]; b != 0; b &= b - 1 {
				if l := w*64 + bits64(b); l < nl {
					count[l] += e.centries[i].n
				}
			}
		}
	}
	locs := e.locOrder[:0]
	for l := range count {
		if count[l] > 0 {
			locs = append(locs, l)
		}
	}
	slices.SortStableFunc(locs, func(x, y int) int { return cmp.Compare(count[y], count[x]) })
	e.locOrder = locs
	return locs
}

// enough reports whether the anchor and its candidates hold enough players
// for the team minimums at the loosest step a match with the anchor can
// reach. With window rules it also requires that many players within one
// key range of the window's width around the anchor.
func (e *Engine) enough(a *wticket, now int64) bool {
	return e.inReach(a, now, -1, e.need(a, now))
}

// inReach reports whether the anchor and its candidates that may play in
// location loc (any when loc < 0) hold need players, and with window rules
// need players within one key range of the window's width around the
// anchor.
func (e *Engine) inReach(a *wticket, now int64, loc, need int) bool {
	have := len(a.players)
	for i := range e.centries {
		if loc < 0 || e.centries[i].reach.has(loc) {
			have += int(e.centries[i].n)
		}
	}
	if have < need {
		return false
	}
	w := e.window(a, now)
	if math.IsInf(w, 1) {
		return true
	}
	ks := e.keysInOrder(a, loc)
	// Slide a window [ks[i].key, ks[i].key+w] that contains the anchor.
	sum, j := 0, 0
	for i := range ks {
		if ks[i].key > a.key {
			break
		}
		for j < len(ks) && ks[j].key-ks[i].key <= w {
			sum += ks[j].n
			j++
		}
		if ks[j-1].key >= a.key && sum >= need {
			return true
		}
		sum -= ks[i].n
	}
	return false
}

// keysInOrder returns the keys and party sizes of the anchor and of its
// candidates that may play in loc (any when loc < 0), ascending. gather
// yields those at or below the anchor's key in descending order and those
// above it in ascending order, so unless sort rules reordered them the two
// runs merge without a sort.
func (e *Engine) keysInOrder(a *wticket, loc int) []keyCount {
	ks := e.keyBuf[:0]
	if e.sortRules {
		for i := range e.centries {
			if x := &e.centries[i]; loc < 0 || x.reach.has(loc) {
				ks = append(ks, keyCount{x.key, int(x.n)})
			}
		}
		ks = append(ks, keyCount{a.key, len(a.players)})
		slices.SortFunc(ks, func(x, y keyCount) int { return cmp.Compare(x.key, y.key) })
		e.keyBuf = ks
		return ks
	}
	for i := len(e.centries) - 1; i >= 0; i-- {
		if x := &e.centries[i]; x.key <= a.key && (loc < 0 || x.reach.has(loc)) {
			ks = append(ks, keyCount{x.key, int(x.n)})
		}
	}
	ks = append(ks, keyCount{a.key, len(a.players)})
	for i := range e.centries {
		if x := &e.centries[i]; x.key > a.key && (loc < 0 || x.reach.has(loc)) {
			ks = append(ks, keyCount{x.key, int(x.n)})
		}
	}
	e.keyBuf = ks
	return ks
}

// need returns the fewest players a match with anchor a can hold: the sum
// of team minimums at the loosest step such a match can reach.
func (e *Engine) need(a *wticket, now int64) int {
	lv := e.rs.levels[len(e.rs.levels)-1]
	if !e.rs.algo.expansionOldest {
		lv = e.rs.levels[e.rs.level(float64(now-a.start)/1e9)]
	}
	e.sizes(lv)
	need := 0
	for _, n := range e.slotMin {
		need += n
	}
	return need
}

// emit turns the finished potential match into a Match and takes its
// tickets out of the pool. All player and ticket IDs of the match share one
// backing array.
func (e *Engine) emit(now int64) Match {
	c := &e.c
	rs := e.rs
	m := Match{Step: c.level, Teams: e.out.teams(len(rs.slots))}
	players, tickets := 0, 0
	for _, t := range c.members {
		players += len(t.players)
		if !t.backfill {
			tickets++
		}
	}
	ids := e.out.ids(players + tickets)[:0]
	for i, s := range rs.slots {
		m.Teams[i].Name = s.name
		from := len(ids)
		for j, t := range c.members {
			if c.slots[j] != i {
				continue
			}
			for _, p := range t.players {
				ids = append(ids, p.id)
			}
		}
		m.Teams[i].PlayerIDs = ids[from:len(ids):len(ids)]
	}
	order := e.order2[:0]
	for _, t := range c.members {
		if !t.backfill {
			order = append(order, t)
		}
	}
	slices.SortFunc(order, func(a, b *wticket) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	from := len(ids)
	for _, t := range order {
		ids = append(ids, t.id)
	}
	m.TicketIDs = ids[from:len(ids):len(ids)]
	clear(order)
	e.order2 = order[:0]
	m.Locations = e.locations()
	for _, t := range c.members {
		if !t.backfill {
			e.dropMatched(t)
		}
	}
	e.stats.Matches++
	e.stats.Tickets += tickets
	return m
}

// locations lists where the potential match may be placed.
func (e *Engine) locations() []MatchLocation {
	c := &e.c
	allowed := allBits()
	if len(e.latRules) > 0 {
		allowed = c.locs
	}
	out := e.out.locs(len(e.locNames))[:0]
	for li := range e.locNames {
		if !allowed.has(li) {
			continue
		}
		sum, worst, n, ok := 0.0, float32(0), 0, true
		for _, t := range c.members {
			found := false
			rep, repMax := t.reported()
			for i, l := range rep {
				if int(l.loc) == li {
					sum += float64(l.ms) * float64(len(t.players))
					worst = max(worst, repMax[i])
					n += len(t.players)
					found = true
					break
				}
			}
			if !found {
				ok = false
				break
			}
		}
		if ok && n > 0 {
			out = append(out, MatchLocation{Location: e.locNames[li], AvgMs: math.Round(sum/float64(n)*100) / 100, MaxMs: int(worst)})
		}
	}
	slices.SortStableFunc(out, func(a, b MatchLocation) int { return cmp.Compare(a.AvgMs, b.AvgMs) })
	return out
}

// reassignBudget caps the team splits tried when a greedy candidate has the
// right players but the wrong split.
const reassignBudget = 1024

// reassign searches for another team split of the potential match's tickets
// that satisfies every team size and rule; backfill players keep their
// teams. It reports whether one was found (and leaves it in place).
func (e *Engine) reassign(now int64) bool {
	c := &e.c
	e.setLevel(now)
	lo, hi, players := 0, 0, 0
	for i := range e.slotMin {
		lo += e.slotMin[i]
		hi += e.slotMax[i]
		players += c.counts[i]
	}
	if players < lo || players > hi {
		return false
	}
	ms := slices.Clone(c.members)
	orig := slices.Clone(c.slots)
	nfixed := c.backfill
	c.reset(len(e.rs.slots))
	for i := range nfixed {
		c.push(ms[i], orig[i])
	}
	c.backfill = nfixed
	budget := reassignBudget
	if e.assignRec(ms, nfixed, &budget) {
		return true
	}
	// No split found: restore the original one.
	c.reset(len(e.rs.slots))
	for i, t := range ms {
		c.push(t, orig[i])
	}
	c.backfill = nfixed
	return false
}

func (e *Engine) assignRec(ms []*wticket, i int, budget *int) bool {
	c := &e.c
	if *budget <= 0 {
		return false
	}
	if i == len(ms) {
		*budget--
		if !e.sizesOK() {
			return false
		}
		e.stats.Evaluations++
		return e.chk.check(c, true)
	}
	rest, need := 0, 0
	for _, t := range ms[i:] {
		rest += len(t.players)
	}
	for s, n := range c.counts {
		need += max(0, e.slotMin[s]-n)
	}
	if rest < need {
		return false
	}
	t := ms[i]
	tried := uint64(0)
	for s := range e.rs.slots {
		if t.team >= 0 && t.team != s || c.counts[s]+len(t.players) > e.slotMax[s] {
			continue
		}
		// Empty copies of one team definition are interchangeable unless
		// expressions name copies; try only the first empty one.
		if c.counts[s] == 0 && tried&(1<<min(e.rs.slots[s].def, 62)) != 0 && !e.rs.namesCopies {
			continue
		}
		if c.counts[s] == 0 {
			tried |= 1 << min(e.rs.slots[s].def, 62)
		}
		c.push(t, s)
		if e.assignRec(ms, i+1, budget) {
			return true
		}
		c.pop()
	}
	return false
}

func bits64(b uint64) int { return mathbits.TrailingZeros64(b) }
