package flexmatch

import (
	"cmp"
	"math"
	"slices"
)

// cycleLarge forms large matches (docs/flexmatch.md, "Large matches"):
// tickets are batched by location and by batchDistance closeness, then
// players are spread over the teams by FlexMatch's large-match fill order
// while evening out the balanced attribute.
func (e *Engine) cycleLarge(dirty []*wticket, now int64, out []Match) []Match {
	for _, a := range dirty {
		if a.used {
			continue
		}
		e.stats.Anchors++
		e.upward = e.sweeps(a)
		for _, loc := range e.anchorLocations(a, now) {
			if e.buildLarge(a, loc, now) {
				out = append(out, e.emit(now))
				break
			}
		}
		e.upward, e.batchOf = false, nil
	}
	return out
}

// anchorLocations orders the locations to try for an anchor: by population
// (largestPopulation) or by the anchor's latency (fastestRegion). -1 means
// "any location" when the rule set has no latency rule.
func (e *Engine) anchorLocations(a *wticket, now int64) []int {
	locs := e.locOrder[:0]
	if len(e.latRules) == 0 {
		e.locOrder = append(locs, -1)
		return e.locOrder
	}
	defer func() { e.locOrder = locs }()
	rep, _ := a.reported()
	for _, l := range rep {
		if a.reach.has(int(l.loc)) {
			locs = append(locs, int(l.loc))
		}
	}
	if e.rs.algo.batching == "fastestRegion" {
		slices.SortStableFunc(locs, func(x, y int) int {
			return cmp.Compare(a.latAt(0, x), a.latAt(0, y))
		})
		return locs
	}
	e.gatherOnce(a, now)
	pop := e.locCount[:0]
	for range e.locNames {
		pop = append(pop, 0)
	}
	e.locCount = pop
	for i := range e.centries {
		for _, l := range locs {
			if e.centries[i].reach.has(l) {
				pop[l] += e.centries[i].n
			}
		}
	}
	slices.SortStableFunc(locs, func(x, y int) int { return cmp.Compare(pop[y], pop[x]) })
	return locs
}

// gatherOnce gathers the anchor's batch unless it is already gathered: the
// pool does not change while an anchor's locations are tried, so they share
// one batch.
func (e *Engine) gatherOnce(a *wticket, now int64) {
	if e.batchOf != a {
		e.gather(a, a.key, now)
		e.batchOf = a
	}
}

// fastestLoc is the acceptable location where the ticket reports its lowest
// average latency, or -1.
func fastestLoc(t *wticket) int {
	best, bestMs := -1, float32(0)
	rep, _ := t.reported()
	for _, l := range rep {
		if t.reach.has(int(l.loc)) && (best < 0 || l.ms < bestMs) {
			best, bestMs = int(l.loc), l.ms
		}
	}
	return best
}

// largeState tracks, for the potential large match, each numeric
// batchDistance rule's value range and each latency rule's common eligible
// locations at the current step, so a candidate is checked in O(rules).
type largeState struct {
	lo, hi []float64
	masks  []bits
}

func (e *Engine) batchValue(t *wticket, r *rule) float64 {
	if r.attr == e.keyAttr && r.agg == aggAvg {
		return t.key
	}
	return partyNum(t, r.attr, r.agg)
}

// largeReset recomputes the state from the members at parameters lv.
func (e *Engine) largeReset(st *largeState, lv []float64) {
	st.lo, st.hi = st.lo[:0], st.hi[:0]
	for _, r := range e.rs.rules {
		if r.kind == rkBatchDistance && !r.strAttr {
			st.lo, st.hi = append(st.lo, math.Inf(1)), append(st.hi, math.Inf(-1))
		}
	}
	st.masks = st.masks[:0]
	for range e.latRules {
		st.masks = append(st.masks, allBits())
	}
	for _, t := range e.c.members {
		e.largeAdd(st, t, lv)
	}
}

// largeFits reports whether t can join at parameters lv, near location loc.
func (e *Engine) largeFits(st *largeState, t *wticket, lv []float64, loc int) bool {
	bi := 0
	for _, r := range e.rs.rules {
		if r.kind != rkBatchDistance || r.strAttr {
			continue
		}
		v := e.batchValue(t, r)
		if max(st.hi[bi], v)-min(st.lo[bi], v) > lv[r.pHi] {
			e.chk.fail.rule = e.rs.ruleIndex[r.name]
			return false
		}
		bi++
	}
	for li, ri := range e.latRules {
		m := st.masks[li].and(t.eligible(li, lv[e.rs.rules[ri].pMaxLat]))
		if m.empty() || loc >= 0 && !m.has(loc) {
			e.chk.fail.rule = ri
			return false
		}
	}
	return true
}

func (e *Engine) largeAdd(st *largeState, t *wticket, lv []float64) {
	bi := 0
	for _, r := range e.rs.rules {
		if r.kind != rkBatchDistance || r.strAttr {
			continue
		}
		v := e.batchValue(t, r)
		st.lo[bi], st.hi[bi] = min(st.lo[bi], v), max(st.hi[bi], v)
		bi++
	}
	for li, ri := range e.latRules {
		st.masks[li] = st.masks[li].and(t.eligible(li, lv[e.rs.rules[ri].pMaxLat]))
	}
}

// largeOK rechecks every member at parameters lv.
func (e *Engine) largeOK(st *largeState, lv []float64, loc int) bool {
	e.largeReset(st, lv)
	bi := 0
	for _, r := range e.rs.rules {
		if r.kind != rkBatchDistance || r.strAttr {
			continue
		}
		if st.hi[bi]-st.lo[bi] > lv[r.pHi] {
			return false
		}
		bi++
	}
	for li := range e.latRules {
		if st.masks[li].empty() || loc >= 0 && !st.masks[li].has(loc) {
			return false
		}
	}
	return true
}

func (e *Engine) buildLarge(a *wticket, loc int, now int64) bool {
	c := &e.c
	c.reset(len(e.rs.slots))
	e.gatherOnce(a, now)
	c.push(a, 0)
	e.setLevel(now)
	st := &e.large
	if !e.largeOK(st, c.params, loc) {
		return false
	}
	total := func() (lo, hi int) {
		for i := range e.slotMin {
			lo += e.slotMin[i]
			hi += e.slotMax[i]
		}
		return
	}
	// Give up early when the location cannot hold enough players.
	lo, _ := total()
	avail := len(a.players)
	for _, t := range e.cands {
		if loc < 0 || t.reach.has(loc) {
			avail += len(t.players)
		}
	}
	if !e.rs.algo.expansionOldest && (avail < lo || !e.inReach(a, now, loc, lo)) {
		return false // under "newest" the anchor's own step is the loosest
	}
	// Under fastestRegion a location's batch is the tickets that report
	// their lowest latency there; tickets that merely accept it fill in
	// only after them, as FlexMatch's fastestRegion falls back to other
	// acceptable locations only to fill a match. Under largestPopulation every
	// ticket that accepts the location is in its batch alike.
	fallback := e.rs.algo.batching == "fastestRegion" && loc >= 0
	for i := 0; i < 2*len(e.cands); i++ {
		if i == len(e.cands) && !fallback {
			break
		}
		t := e.cands[i%len(e.cands)]
		if loc >= 0 && !t.reach.has(loc) || fallback && (fastestLoc(t) == loc) != (i < len(e.cands)) {
			continue
		}
		_, hi := total()
		if c.counts[0]+len(t.players) > hi {
			continue
		}
		e.stats.Evaluations++
		level := c.level
		c.members = append(c.members, t)
		e.setLevel(now)
		c.members = c.members[:len(c.members)-1]
		if c.level == level {
			if !e.largeFits(st, t, c.params, loc) {
				e.block()
				continue
			}
			c.push(t, 0)
			e.largeAdd(st, t, c.params)
		} else {
			c.push(t, 0)
			if _, hi := total(); c.counts[0] > hi || !e.largeOK(st, c.params, loc) {
				c.pop()
				e.setLevel(now)
				e.largeReset(st, c.params)
				continue
			}
		}
		if _, hi := total(); c.counts[0] == hi {
			break
		}
	}
	if !e.trimLarge(now) {
		return false
	}
	e.setLevel(now)
	return e.chk.check(c, true) && e.assignLarge()
}

// trimLarge drops the fewest newest tickets so that the rest reach a step
// whose team minimums they meet (docs/flexmatch.md, "Expansions"), in one pass.
func (e *Engine) trimLarge(now int64) bool {
	c := &e.c
	need := func(ref int64) int {
		e.sizes(e.rs.levels[e.rs.level(float64(now-ref)/1e9)])
		lo := 0
		for _, n := range e.slotMin {
			lo += n
		}
		return lo
	}
	defer func() { e.sized = -1 }()
	// Fast paths: nothing to drop, or even the loosest reachable step asks
	// for more players than there are.
	ref := c.newest
	if e.rs.algo.expansionOldest {
		ref = c.oldest
	}
	if c.counts[0] >= need(ref) {
		return true
	}
	if c.counts[0] < need(c.oldest) {
		return false
	}
	order := e.order2[:0]
	order = append(order, c.members...)
	slices.SortFunc(order, func(x, y *wticket) int {
		if x.start != y.start {
			return cmp.Compare(y.start, x.start)
		}
		return cmp.Compare(y.seq, x.seq)
	})
	players := c.counts[0]
	k := 0
	for ; k < len(order); k++ {
		// The set without the k newest tickets: its clock is order[k]
		// under "newest", and unchanged under "oldest".
		ref := order[k].start
		if e.rs.algo.expansionOldest {
			ref = order[len(order)-1].start
		}
		e.sizes(e.rs.levels[e.rs.level(float64(now-ref)/1e9)])
		lo := 0
		for _, n := range e.slotMin {
			lo += n
		}
		if players >= lo {
			break
		}
		players -= len(order[k].players)
	}
	e.sized = -1
	if k == len(order) {
		clear(order)
		e.order2 = order[:0]
		return false
	}
	if k > 0 {
		drop := map[*wticket]bool{}
		for _, t := range order[:k] {
			drop[t] = true
		}
		keep := slices.DeleteFunc(slices.Clone(c.members), func(t *wticket) bool { return drop[t] })
		c.reset(len(e.rs.slots))
		for _, t := range keep {
			c.push(t, 0)
		}
	}
	clear(order)
	e.order2 = order[:0]
	return true
}

// spread assigns tickets, heaviest parties and highest values first, to the
// team with room whose running average of the balanced attribute is lowest.
func spread(members []*wticket, room []int, value func(*wticket) float64, n int) (map[*wticket]int, bool) {
	sum := make([]float64, n)
	got := make([]int, n)
	slots := make(map[*wticket]int, len(members))
	for _, t := range members {
		best := -1
		for s := range n {
			if t.team >= 0 && t.team != s || got[s]+len(t.players) > room[s] {
				continue
			}
			if best < 0 || sum[s]/float64(room[s]) < sum[best]/float64(room[best]) {
				best = s
			}
		}
		if best < 0 {
			return nil, false
		}
		slots[t] = best
		got[best] += len(t.players)
		sum[best] += value(t) * float64(len(t.players))
	}
	return slots, true
}

// assignLarge spreads the potential match's tickets over the teams.
func (e *Engine) assignLarge() bool {
	c := &e.c
	n := len(e.rs.slots)
	players := c.counts[0]
	target := make([]int, n)
	for range players {
		best := -1
		for s := range n {
			if target[s] >= e.slotMax[s] {
				continue
			}
			if best < 0 {
				best = s
				continue
			}
			bs, ss := target[best] < e.slotMin[best], target[s] < e.slotMin[s]
			if ss != bs {
				if ss {
					best = s
				}
				continue
			}
			if e.slotMax[s]-target[s] > e.slotMax[best]-target[best] {
				best = s
			}
		}
		if best < 0 {
			return false
		}
		target[best]++
	}
	for s := range n {
		if target[s] < e.slotMin[s] {
			return false
		}
	}
	members := append([]*wticket(nil), c.members...)
	bal := e.rs.algo.balancedAttr
	hasBal := e.rs.algo.hasBalancedAttr
	value := func(t *wticket) float64 {
		if !hasBal {
			return 0
		}
		return partyNum(t, bal, aggAvg)
	}
	slices.SortStableFunc(members, func(x, y *wticket) int {
		if c := cmp.Compare(len(y.players), len(x.players)); c != 0 {
			return c
		}
		return cmp.Compare(value(y), value(x))
	})
	slots, ok := spread(members, target, value, n)
	if !ok {
		// Parties may not pack into the fill-order counts exactly: fall
		// back to the teams' maximums, then check the minimums.
		if slots, ok = spread(members, slices.Clone(e.slotMax), value, n); !ok {
			return false
		}
		got := make([]int, n)
		for t, s := range slots {
			got[s] += len(t.players)
		}
		for s := range n {
			if got[s] < e.slotMin[s] {
				return false
			}
		}
	}
	order := append([]*wticket(nil), c.members...)
	c.reset(n)
	for _, t := range order {
		c.push(t, slots[t])
	}
	return e.chk.check(c, true)
}
