package flexmatch

import (
	"cmp"
	"math"
	"slices"
)

// This file gathers and orders an anchor's candidates: the tickets within
// its window, streamed in blocks and sorted by how well each suits it.
type keyCount struct {
	key float64
	n   int
}

// block counts the checker's last failure against its rule.
func (e *Engine) block() {
	if r := e.chk.fail.rule; r >= 0 && r < len(e.blocked) {
		e.blocked[r]++
	}
}

// gather collects up to BatchSize candidates nearest to key and orders them.
func (e *Engine) gather(a *wticket, key float64, now int64) {
	e.startGather(a, key, now)
	e.fill(e.opt.BatchSize)
	e.sortCands(a)
}

// gathering is the state of a gather that stops before BatchSize: the
// cursors keep their place so that more can continue it.
type gathering struct {
	a         *wticket
	key       float64
	window    float64
	newest    bool
	l, r      cursor
	lt, rt    *entry
	exhausted bool
}

// startGather positions the cursors around the anchor and empties the
// candidate lists.
func (e *Engine) startGather(a *wticket, key float64, now int64) {
	e.cands = e.cands[:0]
	e.centries = e.centries[:0]
	var l, r cursor
	if a != nil && a.part.idx.n > 0 {
		if ci, j, ok := a.part.idx.locate(a); ok {
			l, r = a.part.idx.at(ci, j)
		} else {
			l, r = a.part.idx.aroundKey(key, a.sub)
		}
	}
	g := &e.gathering
	*g = gathering{a: a, key: key, window: e.window(a, now), l: l, r: r,
		newest: !e.rs.algo.expansionOldest && !e.chk.explain && !a.backfill}
	g.lt, g.rt = g.l.next(), g.r.next()
}

// fill gathers candidates, nearest first (upward first, see sweeps), until
// there are n or none is left within the window.
func (e *Engine) fill(n int) {
	g := &e.gathering
	a, key, window := g.a, g.key, g.window
	n = min(n, e.opt.BatchSize)
	for len(e.cands) < n {
		lt, rt := g.lt, g.rt
		if lt == nil && rt == nil {
			g.exhausted = true
			return
		}
		var x *entry
		if e.upward && rt != nil && rt.key-key > window {
			g.rt = nil // upward is out of reach; the rest come from below
			continue
		}
		if rt == nil || lt != nil && !e.upward && nearerLeft(lt, rt, key, a) {
			x, g.lt = lt, g.l.next()
		} else {
			x, g.rt = rt, g.r.next()
		}
		if math.Abs(x.key-key) > window {
			// Candidates come nearest first (upward first: then only
			// downward ones remain): every one left is out of reach.
			g.lt, g.rt, g.exhausted = nil, nil, true
			return
		}
		if g.newest && a.woke && (x.start > a.start || x.start == a.start && x.seq > a.seq) && x.cycle != e.cycleNo {
			continue // examined when it last arrived or changed step (see fresh)
		}
		t := e.tab.ts[x.id]
		if t == a || x.reach.and(a.reach).empty() || !g.newest && !e.fresh(a, t) {
			continue
		}
		e.cands = append(e.cands, t)
		e.centries = append(e.centries, *x)
	}
}

// more gathers further candidates for a streamed gather (see streams) and
// reports whether it found any.
func (e *Engine) more() bool {
	if !e.streaming || e.gathering.exhausted || len(e.cands) >= e.opt.BatchSize {
		return false
	}
	n := len(e.cands)
	e.fill(2*n + 8)
	return len(e.cands) > n
}

// streams reports whether the anchor's candidates may be gathered as the
// build consumes them: nothing orders or counts the whole batch first (no
// sort rules, no latency rules to choose a location by) and no explanation
// needs it.
func (e *Engine) streams() bool {
	return len(e.latRules) == 0 && !e.sortRules && !e.chk.explain
}

// nearerLeft reports whether the left candidate l is at least as near the
// anchor as the right one r: by key, then by sub (sorted batching).
func nearerLeft(l, r *entry, key float64, a *wticket) bool {
	dl, dr := key-l.key, r.key-key
	if dl != dr || a == nil {
		return dl <= dr
	}
	return math.Abs(a.sub-l.sub) <= math.Abs(r.sub-a.sub)
}

// fresh reports whether a potential match of anchor a with candidate t can
// have changed since it was last examined (docs/flexmatch.md, "Expansions"). Under
// "newest" a match's step is set by its newest ticket, and every match whose
// newest ticket is t was examined when t last arrived or changed step (or
// when the anchor itself arrived, since arrivals look at everything), or will
// be when t anchors later in this cycle; so an anchor woken by a new step
// skips newer tickets that arrived before this cycle (gather applies this
// from the index entry alone, so a re-queued ticket with an old start time is
// handled too). Under "oldest" a woken anchor skips older tickets
// that are not dirty. Explain and Backfill look at every candidate.
func (e *Engine) fresh(a, t *wticket) bool {
	if e.chk.explain || a.backfill || t.dirty {
		return true
	}
	older := t.start < a.start || t.start == a.start && t.seq < a.seq
	if !e.rs.algo.expansionOldest {
		return older
	}
	return !a.woke || !older
}

// window bounds how far from the anchor's key a candidate may be: the
// tightest spread or batchDistance bound at the loosest level any potential
// match with the anchor can reach. Under "newest" a match is never older than
// its anchor, so the anchor's own age caps the level.
func (e *Engine) window(a *wticket, now int64) float64 {
	w := math.Inf(1)
	if a == nil || len(e.windows) == 0 || e.chk.explain {
		return w // Explain looks further to show near misses
	}
	lv := e.rs.levels[len(e.rs.levels)-1]
	if !e.rs.algo.expansionOldest {
		lv = e.rs.levels[e.rs.level(float64(now-a.start)/1e9)]
	}
	for _, p := range e.windows {
		if v := lv[p]; !isNaN(v) {
			w = min(w, v)
		}
	}
	if math.IsInf(w, 1) {
		return w
	}
	// A distance may lie past its bound by the rounding slack of the
	// values compared (roundingSlack); every key within the window is at
	// most |a.key|+w in size, so this slack covers them all.
	return w + roundingSlack(a.key, math.Abs(a.key)+w)
}

type sortKey struct {
	t    *wticket
	x    entry
	keys [4]float64
	strs [4]string
}

// sortCands orders candidates by the sort rules relative to the anchor
// (docs/flexmatch.md, "Evaluating rules"), ties by age.
func (e *Engine) sortCands(a *wticket) {
	var srules []*rule
	for _, r := range e.rs.rules {
		if r.kind.isSort() && len(srules) < 4 {
			srules = append(srules, r)
		}
	}
	if len(srules) == 0 {
		return
	}
	ks := e.sortKeys[:0]
	for i, t := range e.cands {
		var k sortKey
		k.t, k.x = t, e.centries[i]
		for i, r := range srules {
			k.keys[i], k.strs[i] = sortValue(e.rs, r, a, t)
		}
		ks = append(ks, k)
	}
	slices.SortStableFunc(ks, func(x, y sortKey) int {
		for i, r := range srules {
			if c := cmp.Compare(x.keys[i], y.keys[i]); c != 0 {
				return c
			}
			if c := cmp.Compare(x.strs[i], y.strs[i]); c != 0 {
				if r.desc {
					return -c
				}
				return c
			}
		}
		if c := cmp.Compare(x.t.start, y.t.start); c != 0 {
			return c
		}
		return cmp.Compare(x.t.seq, y.t.seq)
	})
	for i, k := range ks {
		e.cands[i], e.centries[i] = k.t, k.x
	}
	e.sortKeys = ks
}

// sortValue returns the sort key of t relative to anchor a for one sort
// rule; smaller sorts first. Missing map keys sort last.
func sortValue(rs *RuleSet, r *rule, a, t *wticket) (float64, string) {
	typ := rs.attrs[r.attr].Type
	if typ == AttrString {
		return 0, t.players[0].attrs[r.attr].s
	}
	var av, tv float64
	if r.isMap {
		key, ok := mapKey(a.players[0].attrs[r.attr].m, r.mapMax)
		if !ok {
			return 0, ""
		}
		v, ok := partyMap(t, r.attr, key, r.agg)
		if !ok {
			return math.Inf(1), ""
		}
		tv = v
		av, _ = partyMap(a, r.attr, key, r.agg)
	} else {
		tv = partyNum(t, r.attr, r.agg)
		av = partyNum(a, r.attr, r.agg)
	}
	if r.kind == rkDistanceSort {
		d := math.Abs(tv - av)
		if r.desc {
			return -d, ""
		}
		return d, ""
	}
	if r.desc {
		return -tv, ""
	}
	return tv, ""
}

func mapKey(m map[string]float64, maxV bool) (string, bool) {
	best, bv, ok := "", 0.0, false
	for k, v := range m {
		if !ok || maxV && (v > bv || v == bv && k < best) || !maxV && (v < bv || v == bv && k < best) {
			best, bv, ok = k, v, true
		}
	}
	return best, ok
}

func partyMap(t *wticket, ai int, key string, agg aggKind) (float64, bool) {
	var r float64
	n := 0
	for _, p := range t.players {
		v, ok := p.attrs[ai].m[key]
		if !ok {
			continue
		}
		r = fold(r, v, n, agg)
		n++
	}
	if n == 0 {
		return 0, false
	}
	if agg == aggAvg {
		r /= float64(n)
	}
	return r, true
}
