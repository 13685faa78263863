package flexmatch

import (
	"math"
	"slices"
)

type vkind uint8

const (
	vUndef vkind = iota
	vNum
	vStr
	vList
	vTeam
	vPlayer
)

// val is an expression value. Lists keep their elements in the evaluator's
// arena at [lo, hi), so evaluation allocates nothing once the arena has grown.
type val struct {
	k      vkind
	n      float64
	s      string
	lo, hi int32
}

// member is one player of a potential match.
type member struct {
	t *wticket
	p int
}

// evaluator evaluates expressions over a potential match. It is reused
// across evaluations and is not safe for concurrent use.
type evaluator struct {
	rs    *RuleSet
	a     []val
	teams [][]member // players per team slot
	agg   aggKind
	nums  []float64
}

func (ev *evaluator) reset() { ev.a = ev.a[:0] }

func (ev *evaluator) push(v val) int32 {
	ev.a = append(ev.a, v)
	return int32(len(ev.a) - 1)
}

// reserve appends n undefined values and returns the index of the first.
func (ev *evaluator) reserve(n int) int32 {
	lo := int32(len(ev.a))
	for range n {
		ev.a = append(ev.a, val{})
	}
	return lo
}

func (ev *evaluator) eval(e *expr) val {
	switch e.kind {
	case exNum:
		return val{k: vNum, n: e.num}
	case exStr:
		return val{k: vStr, s: e.str}
	case exList:
		lo := int32(len(ev.a))
		for _, s := range e.list {
			ev.push(val{k: vStr, s: s})
		}
		return val{k: vList, lo: lo, hi: int32(len(ev.a))}
	case exSel:
		return ev.selector(e)
	}
	arg := ev.eval(e.arg)
	return ev.apply(e.fn, arg, e.arg.typ.depth)
}

func (ev *evaluator) selector(e *expr) val {
	if !e.multi {
		return ev.team(e, e.teams[0])
	}
	lo := ev.reserve(len(e.teams))
	for i, ti := range e.teams {
		v := ev.team(e, ti)
		ev.a[lo+int32(i)] = v
	}
	return val{k: vList, lo: lo, hi: lo + int32(len(e.teams))}
}

func (ev *evaluator) team(e *expr, ti int) val {
	if e.what == selTeams {
		return val{k: vTeam, lo: int32(ti)}
	}
	ms := ev.teams[ti]
	lo := ev.reserve(len(ms))
	for i, m := range ms {
		var v val
		switch e.what {
		case selPlayers:
			v = val{k: vPlayer}
		case selPlayerID:
			v = val{k: vStr, s: m.t.players[m.p].id}
		default:
			v = ev.attr(m, e.attr)
		}
		ev.a[lo+int32(i)] = v
	}
	return val{k: vList, lo: lo, hi: lo + int32(len(ms))}
}

// attr reads a player's attribute, applying the rule's party aggregation.
func (ev *evaluator) attr(m member, ai int) val {
	t := m.t
	av := &t.players[m.p].attrs[ai]
	switch ev.rs.attrs[ai].Type {
	case AttrNumber:
		if len(t.players) == 1 {
			return val{k: vNum, n: av.n}
		}
		return val{k: vNum, n: partyNum(t, ai, ev.agg)}
	case AttrString:
		return val{k: vStr, s: av.s}
	}
	lo := int32(len(ev.a))
	if len(t.players) == 1 || ev.agg != aggUnion && ev.agg != aggIntersection {
		for _, s := range av.sl {
			ev.push(val{k: vStr, s: s})
		}
		return val{k: vList, lo: lo, hi: int32(len(ev.a))}
	}
	if ev.agg == aggUnion {
		for _, p := range t.players {
			for _, s := range p.attrs[ai].sl {
				if !ev.hasStr(lo, s) {
					ev.push(val{k: vStr, s: s})
				}
			}
		}
		return val{k: vList, lo: lo, hi: int32(len(ev.a))}
	}
	for _, s := range t.players[0].attrs[ai].sl {
		in := !ev.hasStr(lo, s)
		for _, p := range t.players[1:] {
			if !slices.Contains(p.attrs[ai].sl, s) {
				in = false
				break
			}
		}
		if in {
			ev.push(val{k: vStr, s: s})
		}
	}
	return val{k: vList, lo: lo, hi: int32(len(ev.a))}
}

func (ev *evaluator) hasStr(lo int32, s string) bool {
	for _, v := range ev.a[lo:] {
		if v.s == s {
			return true
		}
	}
	return false
}

// fold adds x, the value after n others, to r, their aggregate by agg; an
// average is left as a sum for the caller to divide.
func fold(r, x float64, n int, agg aggKind) float64 {
	switch {
	case n == 0:
		return x
	case agg == aggMin:
		return min(r, x)
	case agg == aggMax:
		return max(r, x)
	default:
		return r + x
	}
}

// partyNum aggregates a number attribute over a ticket's players.
func partyNum(t *wticket, ai int, agg aggKind) float64 {
	var r float64
	for i, p := range t.players {
		r = fold(r, p.attrs[ai].n, i, agg)
	}
	if agg != aggMin && agg != aggMax {
		r /= float64(len(t.players))
	}
	return r
}

// apply applies a function to a value whose static list depth is d.
func (ev *evaluator) apply(fn funcKind, v val, d int) val {
	if v.k != vList {
		return val{}
	}
	switch fn {
	case fnFlatten:
		if d < 2 {
			return v
		}
		lo := int32(len(ev.a))
		for i := v.lo; i < v.hi; i++ {
			c := ev.a[i]
			if c.k != vList {
				continue
			}
			for j := c.lo; j < c.hi; j++ {
				ev.a = append(ev.a, ev.a[j])
			}
		}
		return val{k: vList, lo: lo, hi: int32(len(ev.a))}
	case fnSetIntersection:
		if d > 2 {
			return ev.lift(fn, v, d)
		}
		return ev.intersect(v)
	case fnCount:
		if d > 1 {
			return ev.lift(fn, v, d)
		}
		return val{k: vNum, n: float64(v.hi - v.lo)}
	}
	if d > 1 {
		return ev.lift(fn, v, d)
	}
	return ev.aggregate(fn, v)
}

func (ev *evaluator) lift(fn funcKind, v val, d int) val {
	n := int(v.hi - v.lo)
	lo := ev.reserve(n)
	for i := range n {
		r := ev.apply(fn, ev.a[v.lo+int32(i)], d-1)
		ev.a[lo+int32(i)] = r
	}
	return val{k: vList, lo: lo, hi: lo + int32(n)}
}

func (ev *evaluator) aggregate(fn funcKind, v val) val {
	ns := ev.nums[:0]
	for i := v.lo; i < v.hi; i++ {
		if c := ev.a[i]; c.k == vNum {
			ns = append(ns, c.n)
		}
	}
	ev.nums = ns
	if len(ns) == 0 {
		return val{} // undefined: the test passes (docs/flexmatch.md)
	}
	var r float64
	switch fn {
	case fnMin:
		r = ns[0]
		for _, x := range ns[1:] {
			r = min(r, x)
		}
	case fnMax:
		r = ns[0]
		for _, x := range ns[1:] {
			r = max(r, x)
		}
	case fnSum, fnAvg, fnStddev:
		for _, x := range ns {
			r += x
		}
		if fn == fnSum {
			break
		}
		r /= float64(len(ns))
		if fn == fnStddev {
			mean, sq := r, 0.0
			for _, x := range ns {
				sq += (x - mean) * (x - mean)
			}
			r = math.Sqrt(sq / float64(len(ns)))
		}
	case fnMedian:
		slices.Sort(ns)
		h := len(ns) / 2
		if len(ns)%2 == 1 {
			r = ns[h]
		} else {
			r = (ns[h-1] + ns[h]) / 2
		}
	}
	return val{k: vNum, n: r}
}

// intersect keeps the strings present in every sublist, in the first
// sublist's order, without duplicates.
func (ev *evaluator) intersect(v val) val {
	lo := int32(len(ev.a))
	if v.hi == v.lo {
		return val{k: vList, lo: lo, hi: lo}
	}
	first := ev.a[v.lo]
	if first.k != vList {
		return val{k: vList, lo: lo, hi: lo}
	}
	for i := first.lo; i < first.hi; i++ {
		s := ev.a[i].s
		if ev.hasStr(lo, s) {
			continue
		}
		in := true
		for j := v.lo + 1; j < v.hi && in; j++ {
			in = ev.listHas(ev.a[j], s)
		}
		if in {
			ev.push(val{k: vStr, s: s})
		}
	}
	return val{k: vList, lo: lo, hi: int32(len(ev.a))}
}

func (ev *evaluator) listHas(l val, s string) bool {
	if l.k != vList {
		return l.k == vStr && l.s == s
	}
	for i := l.lo; i < l.hi; i++ {
		if ev.a[i].s == s {
			return true
		}
	}
	return false
}

// scalars appends every scalar in v (flattening all levels) to out.
func (ev *evaluator) scalars(v val, out []val) []val {
	switch v.k {
	case vNum, vStr:
		return append(out, v)
	case vList:
		for i := v.lo; i < v.hi; i++ {
			out = ev.scalars(ev.a[i], out)
		}
	}
	return out
}
