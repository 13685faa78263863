package flexmatch

import (
	"fmt"
	"math"
)

// bits is a set of location indexes.
type bits [2]uint64

func (b *bits) set(i int)      { b[i>>6] |= 1 << (i & 63) }
func (b bits) has(i int) bool  { return b[i>>6]&(1<<(i&63)) != 0 }
func (b bits) and(o bits) bits { return bits{b[0] & o[0], b[1] & o[1]} }
func (b bits) empty() bool     { return b[0] == 0 && b[1] == 0 }
func allBits() bits            { return bits{^uint64(0), ^uint64(0)} }

// cand is a potential match under construction.
type cand struct {
	members  []*wticket
	slots    []int
	counts   []int
	teams    [][]member
	level    int
	params   []float64
	locs     bits    // locations acceptable to every ticket (latency rules)
	backfill int     // number of leading members that are backfill players
	klo, khi float64 // smallest and largest key among the members
	newest   int64   // latest start among the members
	oldest   int64   // earliest start among the members

	// lmasks[i] is the first latency rule's common eligible locations of
	// members[:i+1] at maxLatency lmaskFor. Valid while members only change
	// at the end; removeAt and reset clear it.
	lmasks   []bits
	lmaskFor float64
}

// keys recomputes the key range and start bounds after a removal.
func (c *cand) keys() {
	c.klo, c.khi = math.Inf(1), math.Inf(-1)
	c.newest, c.oldest = math.MinInt64, math.MaxInt64
	for _, t := range c.members {
		c.klo, c.khi = min(c.klo, t.key), max(c.khi, t.key)
		c.newest, c.oldest = max(c.newest, t.start), min(c.oldest, t.start)
	}
}

func (c *cand) reset(nslots int) {
	c.members = c.members[:0]
	c.slots = c.slots[:0]
	if cap(c.counts) < nslots {
		c.counts = make([]int, nslots)
		c.teams = make([][]member, nslots)
	}
	c.counts = c.counts[:nslots]
	c.teams = c.teams[:nslots]
	for i := range c.counts {
		c.counts[i] = 0
		c.teams[i] = c.teams[i][:0]
	}
	c.backfill = 0
	c.lmasks = c.lmasks[:0]
	c.klo, c.khi = math.Inf(1), math.Inf(-1)
	c.newest, c.oldest = math.MinInt64, math.MaxInt64
}

func (c *cand) push(t *wticket, s int) {
	c.members = append(c.members, t)
	c.slots = append(c.slots, s)
	c.counts[s] += len(t.players)
	for p := range t.players {
		c.teams[s] = append(c.teams[s], member{t, p})
	}
	c.klo, c.khi = min(c.klo, t.key), max(c.khi, t.key)
	c.newest, c.oldest = max(c.newest, t.start), min(c.oldest, t.start)
}

// pop removes the last pushed member.
func (c *cand) pop() {
	n := len(c.members) - 1
	if len(c.lmasks) > n {
		c.lmasks = c.lmasks[:n]
	}
	t, s := c.members[n], c.slots[n]
	c.members, c.slots = c.members[:n], c.slots[:n]
	c.counts[s] -= len(t.players)
	c.teams[s] = c.teams[s][:len(c.teams[s])-len(t.players)]
	if t.key <= c.klo || t.key >= c.khi || t.start >= c.newest || t.start <= c.oldest {
		c.keys()
	}
}

// removeAt removes member i, keeping the order of the others.
func (c *cand) removeAt(i int) {
	if len(c.lmasks) > i {
		c.lmasks = c.lmasks[:i]
	}
	t, s := c.members[i], c.slots[i]
	c.members = append(c.members[:i], c.members[i+1:]...)
	c.slots = append(c.slots[:i], c.slots[i+1:]...)
	c.counts[s] -= len(t.players)
	ms := c.teams[s][:0]
	for _, m := range c.teams[s] {
		if m.t != t {
			ms = append(ms, m)
		}
	}
	c.teams[s] = ms
	c.keys()
}

// failure describes why a potential match broke a rule.
type failure struct {
	rule int
	text string
	// lower marks a lower bound (minDistance, minCount) not yet reached:
	// tickets further down the candidate list may still reach it.
	lower bool
}

// checker evaluates the rules of a rule set on potential matches.
type checker struct {
	rs      *RuleSet
	keyAttr int // the engine's key attribute: tickets' keys hold its party average
	ev      evaluator
	vals    []val
	explain bool
	fail    failure
	// reachOne says the rule set has one latency rule, whose loosest
	// maxLatency is reachLat: tickets' reach is then their eligibility
	// there.
	reachOne bool
	reachLat float64
}

func (k *checker) failf(ri int, text func() string) bool {
	k.fail.rule, k.fail.lower = ri, false
	if k.explain {
		k.fail.text = text()
	}
	return false
}

// failLower is failf for a lower bound not reached.
func (k *checker) failLower(ri int, text func() string) bool {
	k.failf(ri, text)
	k.fail.lower = true
	return false
}

// check evaluates every standalone rule. Count rules are evaluated only when
// complete is set. It returns false and sets k.fail on the first failure.
func (k *checker) check(c *cand, complete bool) bool {
	c.locs = allBits()
	for ri, r := range k.rs.rules {
		if r.inCompound || r.kind.isSort() {
			continue
		}
		if !k.rule(c, ri, complete) {
			return false
		}
	}
	return true
}

func (k *checker) rule(c *cand, ri int, complete bool) bool {
	r := k.rs.rules[ri]
	if r.usesCount && !complete {
		return true
	}
	switch r.kind {
	case rkBatchDistance:
		return k.batch(c, ri, r)
	case rkLatency:
		return k.latency(c, ri, r)
	case rkDistance:
		if r.spread >= 0 {
			return k.spread(c, ri, r, complete)
		}
	case rkCompound:
		if k.stmt(c, r.stmt, complete) {
			return true
		}
		return k.failf(ri, func() string { return fmt.Sprintf("%s: statement is false", r.name) })
	}
	k.ev.reset()
	k.ev.teams = c.teams
	k.ev.agg = r.agg
	m := k.ev.eval(r.meas)
	var ref val
	if r.ref != nil {
		if r.pRef >= 0 {
			ref = val{k: vNum, n: c.params[r.pRef]}
		} else {
			ref = k.ev.eval(r.ref)
		}
	}
	switch r.kind {
	case rkComparison:
		return k.comparison(c, ri, r, m, ref)
	case rkDistance:
		return k.distance(c, ri, r, m, ref, complete)
	}
	return k.collection(c, ri, r, m, ref, complete)
}

func (k *checker) stmt(c *cand, n *cnode, complete bool) bool {
	switch n.op {
	case cRef:
		return k.rule(c, n.rule, complete)
	case cNot:
		return !k.stmt(c, n.kids[0], complete)
	case cXor:
		return k.stmt(c, n.kids[0], complete) != k.stmt(c, n.kids[1], complete)
	case cAnd:
		for _, x := range n.kids {
			if !k.stmt(c, x, complete) {
				return false
			}
		}
		return true
	}
	for _, x := range n.kids {
		if k.stmt(c, x, complete) {
			return true
		}
	}
	return false
}

func (k *checker) batch(c *cand, ri int, r *rule) bool {
	if r.strAttr {
		first := c.members[0].players[0].attrs[r.attr].s
		for _, t := range c.members[1:] {
			if s := t.players[0].attrs[r.attr].s; s != first {
				return k.failf(ri, func() string {
					return fmt.Sprintf("%s: %s %q differs from %q", r.name, k.rs.attrs[r.attr].Name, s, first)
				})
			}
		}
		return true
	}
	lo, hi := c.klo, c.khi
	if r.attr != k.keyAttr || r.agg != aggAvg || len(c.members) != len(c.slots) {
		// The key range holds the party averages of pushed members only.
		lo, hi = math.Inf(1), math.Inf(-1)
		for _, t := range c.members {
			v := partyNum(t, r.attr, r.agg)
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if d := c.params[r.pHi]; past(hi-lo, d, lo, hi) {
		return k.failf(ri, func() string {
			return fmt.Sprintf("%s: %s spread %s > maxDistance %s", r.name, k.rs.attrs[r.attr].Name, fmtNum(hi-lo), fmtNum(d))
		})
	}
	return true
}

// spread evaluates a recognised max−min spread rule directly. Like every
// lower bound, minDistance is judged on complete candidates only: a spread
// too narrow so far may widen as tickets join.
func (k *checker) spread(c *cand, ri int, r *rule, complete bool) bool {
	lo, hi := c.klo, c.khi
	if r.spread != k.keyAttr {
		lo, hi = math.Inf(1), math.Inf(-1)
		for _, t := range c.members {
			v := partyNum(t, r.spread, aggAvg)
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	d := hi - lo
	if mx := c.params[r.pHi]; past(d, mx, lo, hi) {
		return k.failf(ri, func() string {
			return fmt.Sprintf("%s: distance %s > maxDistance %s", r.name, fmtNum(round3(d)), fmtNum(mx))
		})
	}
	if mn := c.params[r.pLo]; complete && !isNaN(mn) && short(d, mn, lo, hi) {
		return k.failLower(ri, func() string {
			return fmt.Sprintf("%s: distance %s < minDistance %s", r.name, fmtNum(round3(d)), fmtNum(mn))
		})
	}
	return true
}

func (k *checker) latency(c *cand, ri int, r *rule) bool {
	maxLat := c.params[r.pMaxLat]
	li := r.attr // latency rules keep their ordinal in attr
	common := allBits()
	from := 0
	if li == 0 && !k.explain {
		// Prefix masks of the first latency rule: trials add and remove
		// members at the end, so most checks fold in one new member.
		if c.lmaskFor != maxLat || isNaN(maxLat) {
			c.lmasks, c.lmaskFor = c.lmasks[:0], maxLat
		}
		if n := min(len(c.lmasks), len(c.members)); n > 0 {
			c.lmasks = c.lmasks[:n]
			common, from = c.lmasks[n-1], n
		}
	}
	// A ticket's reach is its eligibility under the only latency rule at
	// that rule's loosest bound, kept in the ticket itself.
	useReach := li == 0 && k.reachOne && (maxLat == k.reachLat || isNaN(maxLat) && isNaN(k.reachLat))
	for i, t := range c.members[from:] {
		if useReach {
			common = common.and(t.reach)
		} else {
			common = common.and(t.eligible(li, maxLat))
		}
		if li == 0 && !k.explain && from+i == len(c.lmasks) {
			c.lmasks = append(c.lmasks, common)
		}
		if common.empty() {
			if isNaN(maxLat) {
				return k.failf(ri, func() string { return fmt.Sprintf("%s: no location reported by every ticket", r.name) })
			}
			return k.failf(ri, func() string {
				return fmt.Sprintf("%s: no location with latency ≤ maxLatency %s ms for every ticket (ticket %s breaks it)", r.name, fmtNum(maxLat), t.id)
			})
		}
	}
	d := c.params[r.pLatDist]
	if !isNaN(d) {
		ok := bits{}
		worst := math.Inf(1)
		for loc := range 128 {
			if !common.has(loc) {
				continue
			}
			ref, sum, hi := math.Inf(1), 0.0, 0.0
			for _, t := range c.members {
				ms := t.latAt(li, loc)
				ref, sum, hi = min(ref, ms), sum+ms, max(hi, ms)
			}
			if r.distRefAvg {
				ref = sum / float64(len(c.members))
			}
			if hi-ref <= d {
				ok.set(loc)
			} else {
				worst = min(worst, hi-ref)
			}
		}
		if ok.empty() {
			return k.failf(ri, func() string {
				return fmt.Sprintf("%s: latency distance %s > maxDistance %s in every common location", r.name, fmtNum(worst), fmtNum(d))
			})
		}
		common = ok
	}
	c.locs = c.locs.and(common)
	if c.locs.empty() {
		return k.failf(ri, func() string { return fmt.Sprintf("%s: no location satisfies every latency rule", r.name) })
	}
	return true
}

func cmpOK(op opKind, a, b val) bool {
	if a.k == vStr || b.k == vStr {
		switch op {
		case opEQ:
			return a.s == b.s && a.k == b.k
		case opNE:
			return a.s != b.s || a.k != b.k
		}
		return true
	}
	switch op {
	case opLT:
		return a.n < b.n
	case opLE:
		return a.n <= b.n
	case opEQ:
		return a.n == b.n
	case opNE:
		return a.n != b.n
	case opGT:
		return a.n > b.n
	}
	return a.n >= b.n
}

func (v val) String() string {
	switch v.k {
	case vNum:
		return fmtNum(v.n)
	case vStr:
		return fmt.Sprintf("%q", v.s)
	}
	return "undefined"
}

func (k *checker) comparison(c *cand, ri int, r *rule, m, ref val) bool {
	k.vals = k.ev.scalars(m, k.vals[:0])
	if r.ref != nil {
		if ref.k == vUndef {
			return true
		}
		for _, x := range k.vals {
			if !cmpOK(r.op, x, ref) {
				return k.failf(ri, func() string { return fmt.Sprintf("%s: value %s %s %s is false", r.name, x, r.op, ref) })
			}
		}
		return true
	}
	for i, x := range k.vals {
		for _, y := range k.vals[i+1:] {
			eq := x.k == y.k && x.n == y.n && x.s == y.s
			if r.op == opEQ && !eq {
				return k.failf(ri, func() string { return fmt.Sprintf("%s: values differ (%s and %s)", r.name, x, y) })
			}
			if r.op == opNE && eq {
				return k.failf(ri, func() string { return fmt.Sprintf("%s: value %s appears twice", r.name, x) })
			}
		}
	}
	return true
}

// distance evaluates a distance rule; minDistance waits for a complete
// candidate (see spread).
func (k *checker) distance(c *cand, ri int, r *rule, m, ref val, complete bool) bool {
	if ref.k != vNum {
		return true
	}
	lo, hi := math.NaN(), math.NaN()
	if r.pLo >= 0 && complete {
		lo = c.params[r.pLo]
	}
	if r.pHi >= 0 {
		hi = c.params[r.pHi]
	}
	k.vals = k.ev.scalars(m, k.vals[:0])
	for _, x := range k.vals {
		if x.k != vNum {
			continue
		}
		d := math.Abs(x.n - ref.n)
		if !isNaN(hi) && past(d, hi, x.n, ref.n) {
			return k.failf(ri, func() string {
				return fmt.Sprintf("%s: distance %s > maxDistance %s", r.name, fmtNum(round3(d)), fmtNum(hi))
			})
		}
		if !isNaN(lo) && short(d, lo, x.n, ref.n) {
			return k.failLower(ri, func() string {
				return fmt.Sprintf("%s: distance %s < minDistance %s", r.name, fmtNum(round3(d)), fmtNum(lo))
			})
		}
	}
	return true
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// roundingSlack is how far a distance between a and b may lie past a bound
// and still meet it. Averages and sums are added up in team order, so a
// distance that equals its bound in exact arithmetic comes out a few ulps
// either side of it depending on how the rule set lists its teams; the
// bound is inclusive, and the slack keeps it so whatever that order.
func roundingSlack(a, b float64) float64 {
	return 1e-9 * max(1, math.Abs(a), math.Abs(b))
}

// past reports whether distance d between a and b exceeds bound by more
// than their rounding slack; the slack is worked out only for a distance
// already past the bound (the window keeps most candidates inside it).
func past(d, bound, a, b float64) bool { return d > bound && d > bound+roundingSlack(a, b) }

// short reports whether d falls below bound by more than the rounding slack.
func short(d, bound, a, b float64) bool { return d < bound && d < bound-roundingSlack(a, b) }

// collection evaluates a collection rule. The minCount of contains waits
// for a complete candidate, as the count grows when tickets join (the values
// an intersection shares only shrink, so its minCount is judged at once).
func (k *checker) collection(c *cand, ri int, r *rule, m, ref val, complete bool) bool {
	lo, hi := c.params[r.pLo], c.params[r.pHi]
	if !complete && r.op == opContains {
		lo = math.NaN()
	}
	ev := &k.ev
	if m.k != vList {
		return true
	}
	flat := r.meas.typ.depth == 1 // plain strings: each is a one-element list
	n := int(m.hi - m.lo)
	list := func(i int) val { return ev.a[m.lo+int32(i)] }
	has := func(i int, s string) bool {
		l := list(i)
		if flat {
			return l.s == s
		}
		return ev.listHas(l, s)
	}
	within := func(count float64, what string) bool {
		if !isNaN(hi) && count > hi {
			return k.failf(ri, func() string { return fmt.Sprintf("%s: %s %s > maxCount %s", r.name, what, fmtNum(count), fmtNum(hi)) })
		}
		if !isNaN(lo) && count < lo {
			return k.failLower(ri, func() string { return fmt.Sprintf("%s: %s %s < minCount %s", r.name, what, fmtNum(count), fmtNum(lo)) })
		}
		return true
	}
	switch r.op {
	case opIntersection:
		if n == 0 {
			return true
		}
		count := 0
		first := list(0)
		if flat {
			first = val{k: vList, lo: m.lo, hi: m.lo + 1}
		}
		for i := first.lo; i < first.hi; i++ {
			s := ev.a[i].s
			dup := false
			for j := first.lo; j < i; j++ {
				dup = dup || ev.a[j].s == s
			}
			if dup {
				continue
			}
			in := true
			for j := 1; j < n && in; j++ {
				in = has(j, s)
			}
			if in {
				count++
			}
		}
		return within(float64(count), "shared values")
	case opContains:
		if ref.k != vStr {
			return true
		}
		count := 0
		for i := range n {
			if has(i, ref.s) {
				count++
			}
		}
		return within(float64(count), "count of "+ref.String())
	}
	if ref.k != vList {
		return true
	}
	for i := range n {
		l := list(i)
		if flat {
			l = val{k: vList, lo: m.lo + int32(i), hi: m.lo + int32(i) + 1}
		}
		count := 0
		for j := l.lo; j < l.hi; j++ {
			s := ev.a[j].s
			dup := false
			for x := l.lo; x < j; x++ {
				dup = dup || ev.a[x].s == s
			}
			if !dup && ev.listHas(ref, s) {
				count++
			}
		}
		if !within(float64(count), "reference intersection count") {
			return false
		}
	}
	return true
}

// eligible returns the locations where the ticket's latency is within
// maxLat for latency rule li, caching the answer for the first rule.
func (t *wticket) eligible(li int, maxLat float64) bits {
	n := t.net
	if li == 0 && n.maskFor == maxLat && n.maskOK {
		return n.mask
	}
	var m bits
	for _, l := range n.lat[li] {
		if isNaN(maxLat) || float64(l.ms) <= maxLat {
			m.set(int(l.loc))
		}
	}
	if li == 0 {
		n.mask, n.maskFor, n.maskOK = m, maxLat, true
	}
	return m
}
