package flexmatch

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

type ruleKind uint8

const (
	rkBatchDistance ruleKind = iota
	rkComparison
	rkDistance
	rkCollection
	rkLatency
	rkAbsoluteSort
	rkDistanceSort
	rkCompound
)

var ruleKindNames = []string{"batchDistance", "comparison", "distance", "collection", "latency", "absoluteSort", "distanceSort", "compound"}

func (k ruleKind) String() string { return ruleKindNames[k] }

func (k ruleKind) isSort() bool { return k == rkAbsoluteSort || k == rkDistanceSort }

type aggKind uint8

const (
	aggAvg aggKind = iota
	aggMin
	aggMax
	aggUnion
	aggIntersection
)

type opKind uint8

const (
	opLT opKind = iota
	opLE
	opEQ
	opNE
	opGT
	opGE
	opIntersection
	opContains
	opRefCount
)

var opNames = []string{"<", "<=", "=", "!=", ">", ">=", "intersection", "contains", "reference_intersection_count"}

func (o opKind) String() string { return opNames[o] }

// rule is one compiled rule.
type rule struct {
	name string
	kind ruleKind
	agg  aggKind

	attr    int  // batchAttribute or sortAttribute
	strAttr bool // batchDistance over a string attribute

	meas, ref *expr
	op        opKind

	pLo, pHi   int // minDistance/maxDistance or minCount/maxCount
	pRef       int // referenceValue number literal, or -1
	pMaxLat    int
	pLatDist   int
	distRefAvg bool

	desc   bool
	isMap  bool
	mapMax bool

	stmt       *cnode
	inCompound bool
	// usesCount marks rules judged on complete candidates only: rules whose
	// expressions use count(, and compound rules with not or xor.
	usesCount bool

	targets map[string]int // expandable property → parameter

	spread   int  // attribute of a recognised spread rule, or -1 (see spreadRule)
	agnostic bool // the result does not depend on which team a ticket joins
}

func (rs *RuleSet) parseRules(list []any, ps *problems) {
	all := map[string]bool{}
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			if s, ok := m["name"].(string); ok {
				all[s] = true
			}
		}
	}
	for o := range objects(list, "rules", ps) {
		name, nok := o.name(notIn("rule", rs.ruleIndex))
		o.str("description", false)
		t, tok := o.enum("type", true, ruleKindNames...)
		if !tok {
			for k := range o.m {
				o.used[k] = true // do not pile unknown-property errors on an unknown type
			}
			continue
		}
		r := &rule{name: name, pRef: -1, pLo: -1, pHi: -1, pMaxLat: -1, pLatDist: -1, targets: map[string]int{}, spread: -1}
		for k, n := range ruleKindNames {
			if n == t {
				r.kind = ruleKind(k)
			}
		}
		ri := len(rs.rules)
		switch r.kind {
		case rkBatchDistance:
			rs.parseBatchDistance(o, r, ri, ps)
		case rkComparison:
			rs.parseComparison(o, r, ri, ps)
		case rkDistance:
			rs.parseDistance(o, r, ri, ps)
		case rkCollection:
			rs.parseCollection(o, r, ri, ps)
		case rkLatency:
			rs.parseLatency(o, r, ri, ps)
		case rkAbsoluteSort, rkDistanceSort:
			rs.parseSort(o, r, ps)
		case rkCompound:
			if s, ok := o.str("statement", true); ok {
				n, why := rs.parseStatement(s, name, all)
				if why != "" {
					ps.add(o.p("statement"), "%s", why)
				}
				r.stmt = n
			}
		}
		o.done()
		if !nok {
			continue
		}
		rs.ruleIndex[name] = ri
		rs.rules = append(rs.rules, r)
		if r.kind == rkLatency {
			rs.hasLatency = true
		}
		if r.usesCount {
			rs.hasCount = true
		}
	}
	for _, r := range rs.rules {
		if r.stmt == nil {
			continue
		}
		r.stmt.walk(func(n *cnode) {
			switch n.op {
			case cRef:
				rs.rules[n.rule].inCompound = true
				r.usesCount = r.usesCount || rs.rules[n.rule].usesCount
			case cNot, cXor:
				// Negation turns "passes for now" on a partial match into
				// "fails", so such statements are judged on complete
				// candidates only.
				r.usesCount = true
			}
		})
		if r.usesCount {
			rs.hasCount = true
		}
	}
}

func (o *obj) aggregation(def aggKind, collection bool) aggKind {
	vals := []string{"avg", "min", "max"}
	if collection {
		vals = []string{"union", "intersection"}
	}
	s, ok := o.enum("partyAggregation", false, vals...)
	if !ok {
		return def
	}
	switch s {
	case "min":
		return aggMin
	case "max":
		return aggMax
	case "union":
		return aggUnion
	case "intersection":
		return aggIntersection
	}
	return aggAvg
}

// bound reads an optional non-negative number and registers it as an
// expandable parameter of the rule.
func (rs *RuleSet) bound(o *obj, r *rule, ri int, key string) int {
	v, ok := 0.0, false
	if o.has(key) {
		v, ok = o.num(key, false)
		if ok && v < 0 {
			o.ps.add(o.p(key), "must be a number ≥ 0")
			ok = false
		}
	} else {
		o.get(key)
	}
	p := rs.addParam("rules["+r.name+"]."+key, ri, v, ok)
	r.targets[key] = p
	return p
}

func (rs *RuleSet) attrRef(o *obj, key string) (int, bool) {
	s, ok := o.str(key, true)
	if !ok {
		return 0, false
	}
	ai, found := rs.attrIndex[s]
	if !found {
		o.ps.add(o.p(key), "no attribute named %q%s", s, suggest(s, rs.attrNames()))
		return 0, false
	}
	return ai, true
}

func (rs *RuleSet) parseBatchDistance(o *obj, r *rule, ri int, ps *problems) {
	r.agg = o.aggregation(aggAvg, false)
	ai, ok := rs.attrRef(o, "batchAttribute")
	hasMax := o.has("maxDistance")
	r.pHi = rs.bound(o, r, ri, "maxDistance")
	if !ok {
		return
	}
	r.attr = ai
	switch rs.attrs[ai].Type {
	case AttrNumber:
		if !hasMax {
			ps.warn(o.p("maxDistance"), "not set for a number attribute; treated as 0 (values must be equal)")
			rs.params[r.pHi] = 0
		}
	case AttrString:
		r.strAttr = true
		if hasMax {
			ps.warn(o.p("maxDistance"), "not used for a string attribute; values must be equal")
		}
	default:
		ps.add(o.p("batchAttribute"), "attribute %q is a %s; batchDistance needs a number or string attribute", rs.attrs[ai].Name, rs.attrs[ai].Type)
	}
}

// measurement reads "measurements": an expression string or a one-element
// array of one.
func (rs *RuleSet) measurement(o *obj) *expr {
	v, ok := o.get("measurements")
	if !ok {
		o.ps.add(o.p("measurements"), "is required")
		return nil
	}
	path := o.p("measurements")
	s, isStr := v.(string)
	if a, isArr := v.([]any); isArr {
		if len(a) != 1 {
			o.ps.add(path, "must hold exactly one expression, not %d", len(a))
			return nil
		}
		path = jindex(path, 0)
		s, isStr = a[0].(string)
	}
	if !isStr {
		o.ps.add(path, "must be a property expression string, not %s", jsonKind(v))
		return nil
	}
	e, why := parseExpr(s, exprEnv{rs: rs})
	if why != "" {
		o.ps.add(path, "%s", why)
		return nil
	}
	if e.typ.base == bPlayer || e.typ.base == bTeam {
		o.ps.add(path, "%s yields %s; select players' attributes or playerId, or count them", e.src, e.typ)
		return nil
	}
	return e
}

// reference reads "referenceValue" as a literal or an expression. numeric
// says the measurement is numeric, so numeric strings become numbers.
func (rs *RuleSet) reference(o *obj, r *rule, ri int, numeric bool) *expr {
	v, ok := o.get("referenceValue")
	if !ok {
		return nil
	}
	path := o.p("referenceValue")
	switch x := v.(type) {
	case json.Number:
		f, ok := toNumber(x, path, o.ps)
		if !ok {
			return nil
		}
		r.pRef = rs.addParam("rules["+r.name+"].referenceValue", ri, f, true)
		r.targets["referenceValue"] = r.pRef
		return &expr{kind: exNum, num: f, typ: typ{bNum, 0}, src: fmtNum(f)}
	case string:
		if isExpression(x) {
			e, why := parseExpr(x, exprEnv{rs: rs})
			if why != "" {
				o.ps.add(path, "%s", why)
				return nil
			}
			return e
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && numeric {
			r.pRef = rs.addParam("rules["+r.name+"].referenceValue", ri, f, true)
			r.targets["referenceValue"] = r.pRef
			return &expr{kind: exNum, num: f, typ: typ{bNum, 0}, src: fmtNum(f)}
		}
		return &expr{kind: exStr, str: x, typ: typ{bStr, 0}, src: strconv.Quote(x)}
	case []any:
		var l []string
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				o.ps.add(jindex(path, i), "must be a string")
				return nil
			}
			l = appendDistinct(l, s)
		}
		return &expr{kind: exList, list: l, typ: typ{bStr, 1}, src: "[" + quoteList(l) + "]"}
	}
	o.ps.add(path, "must be a number, a string, a list of strings or a property expression, not %s", jsonKind(v))
	return nil
}

func (rs *RuleSet) parseComparison(o *obj, r *rule, ri int, ps *problems) {
	r.agg = o.aggregation(aggAvg, false)
	r.meas = rs.measurement(o)
	numeric := r.meas != nil && r.meas.typ.base == bNum
	r.ref = rs.reference(o, r, ri, numeric)
	hasRef := o.has("referenceValue")
	opS, opOK := o.enum("operation", true, "<", "<=", "=", "!=", ">", ">=")
	for k, n := range opNames {
		if n == opS {
			r.op = opKind(k)
		}
	}
	if opOK && !hasRef && r.op != opEQ && r.op != opNE {
		ps.add(o.p("operation"), "without referenceValue only \"=\" and \"!=\" are allowed, not %q", opS)
	}
	if r.meas == nil {
		return
	}
	r.usesCount = r.meas.usesCount || r.ref != nil && r.ref.usesCount
	if r.meas.usesSL {
		ps.add(o.p("measurements"), "%s reads a string_list attribute; compare lists with a collection rule", r.meas.src)
		return
	}
	if r.ref == nil {
		return
	}
	if r.ref.typ.depth != 0 {
		ps.add(o.p("referenceValue"), "must be a single value, but %s is %s", r.ref.src, r.ref.typ)
		return
	}
	if r.ref.typ.base != r.meas.typ.base {
		ps.add(o.p("referenceValue"), "is a %s but the measurement %s yields %ss", r.ref.typ.base, r.meas.src, r.meas.typ.base)
		return
	}
	if opOK && r.meas.typ.base == bStr && r.op != opEQ && r.op != opNE {
		ps.add(o.p("operation"), "strings can only be compared with \"=\" or \"!=\", not %q", opS)
	}
}

func (rs *RuleSet) parseDistance(o *obj, r *rule, ri int, ps *problems) {
	r.agg = o.aggregation(aggAvg, false)
	r.meas = rs.measurement(o)
	r.ref = rs.reference(o, r, ri, true)
	if !o.has("referenceValue") {
		ps.add(o.p("referenceValue"), "is required for a distance rule")
	}
	rs.bounds(o, r, ri, "distance", "minDistance", "maxDistance")
	if r.meas != nil {
		if r.meas.typ.base != bNum {
			ps.add(o.p("measurements"), "a distance rule needs numbers, but %s yields %s", r.meas.src, r.meas.typ)
		}
		r.usesCount = r.meas.usesCount
	}
	if r.ref != nil {
		if r.ref.typ != (typ{bNum, 0}) {
			ps.add(o.p("referenceValue"), "a distance rule needs a single number, but %s is %s", r.ref.src, r.ref.typ)
		}
		r.usesCount = r.usesCount || r.ref.usesCount
	}
}

// bounds reads a rule's lower and upper bound properties lo and hi: at
// least one is needed, and lo may not exceed hi.
func (rs *RuleSet) bounds(o *obj, r *rule, ri int, kind, lo, hi string) {
	hasLo, hasHi := o.has(lo), o.has(hi)
	r.pLo = rs.bound(o, r, ri, lo)
	r.pHi = rs.bound(o, r, ri, hi)
	if !hasLo && !hasHi {
		o.ps.add(o.path, "a %s rule needs %s, %s or both", kind, lo, hi)
	}
	a, b := rs.params[r.targets[lo]], rs.params[r.targets[hi]]
	if a > b { // NaN compares false
		o.ps.add(o.p(lo), "%s %s is greater than %s %s", lo, fmtNum(a), hi, fmtNum(b))
	}
}

func (rs *RuleSet) parseCollection(o *obj, r *rule, ri int, ps *problems) {
	r.agg = o.aggregation(aggUnion, true)
	r.meas = rs.measurement(o)
	r.ref = rs.reference(o, r, ri, false)
	opS, opOK := o.enum("operation", true, "intersection", "contains", "reference_intersection_count")
	for k, n := range opNames {
		if n == opS {
			r.op = opKind(k)
		}
	}
	rs.bounds(o, r, ri, "collection", "minCount", "maxCount")
	if r.meas != nil {
		r.usesCount = r.meas.usesCount
		if r.meas.typ.base != bStr || r.meas.typ.depth < 1 || r.meas.typ.depth > 2 {
			hint := ""
			if r.meas.typ.base == bStr && r.meas.typ.depth > 2 {
				hint = "; wrap it in flatten(...)"
			}
			ps.add(o.p("measurements"), "a collection rule needs a list of string lists, but %s is %s%s", r.meas.src, r.meas.typ, hint)
		}
	}
	if !opOK {
		return
	}
	switch r.op {
	case opIntersection:
		if r.ref != nil {
			ps.warn(o.p("referenceValue"), "not used by the intersection operation; ignored")
			r.ref = nil
		}
	case opContains:
		if r.ref == nil {
			if !o.has("referenceValue") {
				ps.add(o.p("referenceValue"), "is required for the contains operation")
			}
			return
		}
		if r.ref.typ != (typ{bStr, 0}) {
			ps.add(o.p("referenceValue"), "contains needs a single string, but %s is %s", r.ref.src, r.ref.typ)
		}
	case opRefCount:
		if r.ref == nil {
			if !o.has("referenceValue") {
				ps.add(o.p("referenceValue"), "is required for the reference_intersection_count operation")
			}
			return
		}
		if r.ref.kind == exStr {
			r.ref = &expr{kind: exList, list: []string{r.ref.str}, typ: typ{bStr, 1}, src: r.ref.src}
		}
		if r.ref.typ != (typ{bStr, 1}) {
			ps.add(o.p("referenceValue"), "reference_intersection_count needs a list of strings, but %s is %s", r.ref.src, r.ref.typ)
		}
		r.usesCount = r.usesCount || r.ref.usesCount
	}
}

func (rs *RuleSet) parseLatency(o *obj, r *rule, ri int, ps *problems) {
	r.agg = o.aggregation(aggAvg, false)
	hasMax, hasDist := o.has("maxLatency"), o.has("maxDistance")
	r.pMaxLat = rs.bound(o, r, ri, "maxLatency")
	r.pLatDist = rs.bound(o, r, ri, "maxDistance")
	ref, refOK := o.enum("distanceReference", false, "min", "avg")
	r.distRefAvg = ref == "avg"
	if !hasMax && !hasDist {
		ps.add(o.path, "a latency rule needs maxLatency, maxDistance or both")
	}
	if hasDist && !refOK && !o.has("distanceReference") {
		ps.add(o.p("distanceReference"), "is required with maxDistance (\"min\" or \"avg\")")
	}
}

func (rs *RuleSet) parseSort(o *obj, r *rule, ps *problems) {
	r.agg = o.aggregation(aggAvg, false)
	if d, ok := o.enum("sortDirection", true, "ascending", "descending"); ok {
		r.desc = d == "descending"
	}
	ai, ok := rs.attrRef(o, "sortAttribute")
	mk, mkOK := o.enum("mapKey", false, "minValue", "maxValue")
	r.mapMax = mk == "maxValue"
	if !ok {
		return
	}
	r.attr = ai
	t := rs.attrs[ai].Type
	switch {
	case t == AttrStringNumberMap:
		r.isMap = true
		if !mkOK && !o.has("mapKey") {
			ps.add(o.p("mapKey"), "is required when sortAttribute is a string_number_map (\"minValue\" or \"maxValue\")")
		}
	case o.has("mapKey"):
		ps.add(o.p("mapKey"), "only applies to string_number_map attributes; %q is a %s", rs.attrs[ai].Name, t)
	}
	if t == AttrStringList || r.kind == rkDistanceSort && t == AttrString {
		ps.add(o.p("sortAttribute"), "%s cannot sort by %q, a %s attribute", r.kind, rs.attrs[ai].Name, t)
	}
}

// checkLarge enforces the large-match restrictions (docs/flexmatch.md, "Large matches").
func (rs *RuleSet) checkLarge(ps *problems) {
	if !rs.large {
		return
	}
	for i, r := range rs.rules {
		path := jindex("rules", i)
		switch r.kind {
		case rkBatchDistance:
		case rkLatency:
			if !isNaN(rs.params[r.pLatDist]) {
				ps.add(path+".maxDistance", "latency maxDistance is not supported in large matches (more than 40 players or strategy balanced); use maxLatency only")
			}
			if isNaN(rs.params[r.pMaxLat]) {
				ps.add(path+".maxLatency", "is required in large matches")
			}
		default:
			ps.add(path+".type", "%s rules are not supported in large matches (more than 40 players or strategy balanced); only batchDistance and latency are", r.kind)
		}
	}
}

func isNaN(f float64) bool { return f != f }

func (r *rule) String() string { return fmt.Sprintf("%s(%s)", r.kind, r.name) }

// finishRules derives evaluation shortcuts once every rule is parsed.
func (rs *RuleSet) finishRules() {
	rs.agnostic = true
	lat := 0
	for _, r := range rs.rules {
		if r.kind == rkLatency {
			r.attr = lat // latency rules keep their ordinal among latency rules in attr
			lat++
		}
		if ai, ok := spreadRule(r, rs); ok {
			r.spread = ai
		}
		switch r.kind {
		case rkBatchDistance, rkLatency, rkAbsoluteSort, rkDistanceSort:
			r.agnostic = true
		case rkComparison, rkDistance, rkCollection:
			r.agnostic = teamAgnostic(r.meas) && (r.ref == nil || teamAgnostic(r.ref))
		case rkCompound:
			r.agnostic = false
		}
		if !r.agnostic && !r.inCompound && !r.usesCount {
			rs.agnostic = false
		}
	}
}

// teamAgnostic reports whether an expression reads every team only through
// flatten(teams[*]...), so that moving a ticket between teams cannot change
// its value.
func teamAgnostic(x *expr) bool {
	if x == nil {
		return false
	}
	switch x.kind {
	case exNum, exStr, exList:
		return true
	case exSel:
		return false
	}
	if x.fn == fnFlatten && x.arg.kind == exSel {
		sel := x.arg
		return sel.multi && sel.what != selTeams && sel.what != selPlayers && allSlots(sel)
	}
	return teamAgnostic(x.arg)
}

func allSlots(sel *expr) bool {
	seen := map[int]bool{}
	for _, t := range sel.teams {
		seen[t] = true
	}
	return len(seen) == sel.nslots
}

// countOf matches count(teams[X].players) for one team definition and
// returns its index.
func (rs *RuleSet) countOf(x *expr) (int, bool) {
	if x == nil || x.kind != exFunc || x.fn != fnCount || x.arg == nil {
		return 0, false
	}
	sel := x.arg
	if sel.kind != exSel || sel.what != selPlayers || sel.multi || len(sel.teams) != 1 {
		return 0, false
	}
	return rs.slots[sel.teams[0]].def, true
}

// checkEqualCounts reports equal-team-size comparisons that no expansion
// step can satisfy because the teams' size ranges never overlap.
func (rs *RuleSet) checkEqualCounts(ps *problems) {
	for ri, r := range rs.rules {
		if r.kind != rkComparison || r.op != opEQ {
			continue
		}
		a, ok1 := rs.countOf(r.meas)
		b, ok2 := rs.countOf(r.ref)
		if !ok1 || !ok2 || a == b {
			continue
		}
		possible := false
		for _, lv := range rs.levels {
			da, db := rs.defs[a], rs.defs[b]
			lo := max(lv[da.pMin], lv[db.pMin])
			hi := min(lv[da.pMax], lv[db.pMax])
			possible = possible || lo <= hi
		}
		if !possible {
			ps.add(jindex("rules", ri), "team sizes are impossible to satisfy: teams %s and %s can never hold the same number of players", rs.defs[a].name, rs.defs[b].name)
		}
	}
}
