package flexmatch

import (
	"cmp"
	"slices"
)

// cycleLarge forms large matches (reference §5): tickets are batched by
// location and by batchDistance closeness, then players are spread over the
// teams by the fill order of §5.4 while evening out the balanced attribute.
func (e *Engine) cycleLarge(dirty []*wticket, now int64, out []Match) []Match {
	for _, a := range dirty {
		if a.used {
			continue
		}
		e.stats.Anchors++
		for _, loc := range e.anchorLocations(a) {
			if e.buildLarge(a, loc, now) {
				out = append(out, e.emit(now))
				break
			}
		}
	}
	return out
}

// anchorLocations orders the locations to try for an anchor: by population
// (largestPopulation) or by the anchor's latency (fastestRegion). -1 means
// "any location" when the rule set has no latency rule.
func (e *Engine) anchorLocations(a *wticket) []int {
	if len(e.latRules) == 0 {
		return []int{-1}
	}
	var locs []int
	for _, l := range a.rep {
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
	pop := map[int]int{}
	e.gather(a, a.key, now0)
	for _, t := range e.cands {
		for _, l := range locs {
			if t.reach.has(l) {
				pop[l] += len(t.players)
			}
		}
	}
	slices.SortStableFunc(locs, func(x, y int) int { return cmp.Compare(pop[y], pop[x]) })
	return locs
}

const now0 = 0

func (e *Engine) buildLarge(a *wticket, loc int, now int64) bool {
	c := &e.c
	c.reset(len(e.rs.slots))
	e.gather(a, a.key, now)
	c.push(a, 0)
	e.setLevel(now)
	if !e.chk.check(c, false) {
		return false
	}
	total := func() (lo, hi int) {
		for i := range e.slotMin {
			lo += e.slotMin[i]
			hi += e.slotMax[i]
		}
		return
	}
	for _, t := range e.cands {
		if loc >= 0 && !t.reach.has(loc) {
			continue
		}
		_, hi := total()
		if c.counts[0]+len(t.players) > hi {
			continue
		}
		c.push(t, 0)
		e.setLevel(now)
		_, hi = total()
		e.stats.Evaluations++
		if c.counts[0] > hi || !e.chk.check(c, false) || loc >= 0 && !c.locs.has(loc) {
			c.pop()
			e.setLevel(now)
			continue
		}
		if c.counts[0] == hi {
			break
		}
	}
	for len(c.members) > 0 {
		e.setLevel(now)
		lo, _ := total()
		if c.counts[0] >= lo && e.chk.check(c, true) && e.assignLarge() {
			return true
		}
		// Drop the newest ticket: the rest may have reached a later step.
		newest := 0
		for i, t := range c.members {
			if t.start > c.members[newest].start || t.start == c.members[newest].start && t.seq > c.members[newest].seq {
				newest = i
			}
		}
		if newest == 0 && len(c.members) == 1 {
			return false
		}
		c.removeAt(newest)
	}
	return false
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
	sum := make([]float64, n)
	got := make([]int, n)
	slots := make(map[*wticket]int, len(members))
	for _, t := range members {
		best := -1
		for s := range n {
			if t.team >= 0 && t.team != s || got[s]+len(t.players) > target[s] {
				continue
			}
			if best < 0 || sum[s]/float64(target[s]) < sum[best]/float64(target[best]) {
				best = s
			}
		}
		if best < 0 {
			return false
		}
		slots[t] = best
		got[best] += len(t.players)
		sum[best] += value(t) * float64(len(t.players))
	}
	order := append([]*wticket(nil), c.members...)
	c.reset(n)
	for _, t := range order {
		c.push(t, slots[t])
	}
	return e.chk.check(c, true)
}
