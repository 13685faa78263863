package flexmatch

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// MaxBodyLen is the largest rule-set body accepted, in bytes.
const MaxBodyLen = 65535

// AttrType is the declared type of a player attribute.
type AttrType uint8

// Attribute types of the rule-set language.
const (
	AttrString AttrType = iota
	AttrNumber
	AttrStringList
	AttrStringNumberMap
)

var attrTypeNames = []string{"string", "number", "string_list", "string_number_map"}

// String returns the type as written in rule sets ("string_list").
func (t AttrType) String() string { return attrTypeNames[t] }

type attrVal struct {
	n  float64
	s  string
	sl []string
	m  map[string]float64
}

type attribute struct {
	Name   string
	Type   AttrType
	hasDef bool
	def    attrVal
}

type teamDef struct {
	path       string // JSON path of the definition
	name       string
	quantity   int
	pMin, pMax int // parameter indexes
}

type slot struct {
	name string
	def  int
}

// Strategy names the match-building algorithm.
const (
	StrategyExhaustive = "exhaustiveSearch"
	StrategyBalanced   = "balanced"
)

type algorithm struct {
	strategy         string
	batching         string
	sortBy           []int
	balancedAttr     int
	expansionOldest  bool
	backfillPriority string
	hasBalancedAttr  bool
}

// RuleSet is a parsed, validated rule set. It is immutable and safe for
// concurrent use.
type RuleSet struct {
	name      string
	attrs     []attribute
	attrIndex map[string]int
	defs      []teamDef
	slots     []slot
	rules     []*rule
	ruleIndex map[string]int
	algo      algorithm
	warnings  []Problem

	params     []float64 // base values of expandable numbers; NaN = unset
	paramNames []string  // "rules[X].maxDistance" for explanations
	paramRule  []int     // rule index or -1 for team parameters
	exps       []expansion
	waits      []float64   // distinct step wait times, ascending
	levels     [][]float64 // levels[k] = parameters once k waits have passed

	large       bool
	maxPlayers  int
	hasLatency  bool
	hasCount    bool
	namesCopies bool // an expression names one copy of a team with quantity > 1
	agnostic    bool // no standalone partial-match rule depends on team choice
}

// Name returns the rule set's descriptive name (may be empty).
func (rs *RuleSet) Name() string { return rs.name }

// Warnings lists accepted but suspicious points of the rule set.
func (rs *RuleSet) Warnings() []Problem { return rs.warnings }

// Large reports whether the rule set builds large matches (more than 40
// players, or strategy balanced).
func (rs *RuleSet) Large() bool { return rs.large }

// MaxPlayers returns Σ maxPlayers × quantity over all teams.
func (rs *RuleSet) MaxPlayers() int { return rs.maxPlayers }

// TeamNames returns the names of the teams of a match, copies included.
func (rs *RuleSet) TeamNames() []string {
	return names(rs.slots, func(s slot) string { return s.name })
}

// RuleNames returns the rule names in rule-set order.
func (rs *RuleSet) RuleNames() []string {
	return names(rs.rules, func(r *rule) string { return r.name })
}

// AttributeNames returns the declared attributes with their types.
func (rs *RuleSet) AttributeNames() map[string]AttrType {
	out := map[string]AttrType{}
	for _, a := range rs.attrs {
		out[a.Name] = a.Type
	}
	return out
}

// ExpansionWaits returns the distinct expansion step times in seconds.
func (rs *RuleSet) ExpansionWaits() []float64 { return append([]float64(nil), rs.waits...) }

func (rs *RuleSet) attrNames() []string {
	return names(rs.attrs, func(a attribute) string { return a.Name })
}

// names returns the name of each of xs, in order.
func names[T any](xs []T, name func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = name(x)
	}
	return out
}

func (rs *RuleSet) teamNames() []string {
	var out []string
	for _, d := range rs.defs {
		out = append(out, d.name)
	}
	for _, s := range rs.slots {
		if s.name != rs.defs[s.def].name {
			out = append(out, s.name)
		}
	}
	return out
}

// teamSlots resolves a team or copy name to its slots.
func (rs *RuleSet) teamSlots(name string) ([]int, bool) {
	for di, d := range rs.defs {
		if d.name == name {
			var out []int
			for si, s := range rs.slots {
				if s.def == di {
					out = append(out, si)
				}
			}
			return out, true
		}
	}
	for si, s := range rs.slots {
		if s.name == name {
			return []int{si}, true
		}
	}
	return nil, false
}

func (rs *RuleSet) addParam(name string, ruleIdx int, v float64, set bool) int {
	if !set {
		v = math.NaN()
	}
	rs.params = append(rs.params, v)
	rs.paramNames = append(rs.paramNames, name)
	rs.paramRule = append(rs.paramRule, ruleIdx)
	return len(rs.params) - 1
}

// level returns the expansion level reached at the given age in seconds.
func (rs *RuleSet) level(age float64) int {
	return sort.Search(len(rs.waits), func(i int) bool { return rs.waits[i] > age })
}

// Parse parses and validates a rule-set body. On failure the error is a
// *ValidationError listing every problem found.
func Parse(body []byte) (*RuleSet, error) {
	var ps problems
	rs := parse(body, &ps)
	if len(ps.list) > 0 {
		return nil, &ValidationError{Problems: ps.list}
	}
	rs.warnings = ps.warnings
	return rs, nil
}

func parse(body []byte, ps *problems) *RuleSet {
	rs := &RuleSet{attrIndex: map[string]int{}, ruleIndex: map[string]int{}}
	if len(strings.TrimSpace(string(body))) == 0 {
		ps.add("$", "rule-set body is empty")
		return rs
	}
	if len(body) > MaxBodyLen {
		ps.add("$", "rule-set body is %d bytes; the limit is %d", len(body), MaxBodyLen)
		return rs
	}
	m, ok := decodeBody(body, ps)
	if !ok {
		return rs
	}
	top, _ := newObj(m, "", ps)
	if s, ok := top.str("name", false); ok {
		rs.name = s
	}
	if v, ok := top.str("ruleLanguageVersion", true); ok && v != "1.0" {
		ps.add("ruleLanguageVersion", "must be \"1.0\", not %q", v)
	}
	if a, ok := top.arr("playerAttributes", false); ok {
		rs.parseAttributes(a, ps)
	}
	if a, ok := top.arr("teams", true); ok {
		rs.parseTeams(a, ps)
	}
	algoV, hasAlgo := top.get("algorithm")
	rulesV, _ := top.arr("rules", false)
	expV, _ := top.arr("expansions", false)
	top.done()
	if hasAlgo {
		rs.parseAlgorithm(algoV, ps)
	} else {
		rs.parseAlgorithm(map[string]any{}, ps)
	}
	rs.classify(ps)
	rs.parseRules(rulesV, ps)
	rs.finishRules()
	rs.parseExpansions(expV, ps)
	rs.buildLevels(ps)
	if len(ps.list) == 0 {
		rs.checkEqualCounts(ps)
	}
	rs.checkLarge(ps)
	return rs
}

// validName explains why a rule, team or attribute name is unusable.
func validName(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > 128:
		return "must be at most 128 characters"
	case strings.TrimSpace(s) != s:
		return "must not start or end with spaces"
	case strings.ContainsAny(s, "[],().*"):
		return "must not contain any of [ ] , ( ) . *"
	}
	return ""
}

func (rs *RuleSet) parseAttributes(list []any, ps *problems) {
	for o := range objects(list, "playerAttributes", ps) {
		name, nok := o.name(notIn("attribute", rs.attrIndex))
		t, tok := o.enum("type", true, attrTypeNames...)
		a := attribute{Name: name}
		for k, n := range attrTypeNames {
			if n == t {
				a.Type = AttrType(k)
			}
		}
		if d, ok := o.get("default"); ok && tok {
			if val, ok := convertDefault(d, a.Type, o.p("default"), ps); ok {
				a.hasDef, a.def = true, val
			}
		}
		o.done()
		if nok && tok {
			rs.attrIndex[name] = len(rs.attrs)
			rs.attrs = append(rs.attrs, a)
		}
	}
}

func convertDefault(v any, t AttrType, path string, ps *problems) (attrVal, bool) {
	switch t {
	case AttrNumber:
		f, ok := toNumber(v, path, ps)
		return attrVal{n: f}, ok
	case AttrString:
		s, ok := v.(string)
		if !ok {
			ps.add(path, "must be a string for a string attribute, not %s", jsonKind(v))
			return attrVal{}, false
		}
		if len(s) < 1 || len([]rune(s)) > 100 {
			ps.add(path, "must be 1 to 100 characters")
			return attrVal{}, false
		}
		return attrVal{s: s}, true
	case AttrStringList:
		a, ok := v.([]any)
		if !ok {
			ps.add(path, "must be an array of strings for a string_list attribute, not %s", jsonKind(v))
			return attrVal{}, false
		}
		if len(a) > 100 {
			ps.add(path, "has %d strings; the limit is 100", len(a))
			return attrVal{}, false
		}
		out := []string{}
		for i, e := range a {
			s, ok := e.(string)
			if !ok || s == "" || len([]rune(s)) > 100 {
				ps.add(jindex(path, i), "must be a string of 1 to 100 characters")
				return attrVal{}, false
			}
			out = appendDistinct(out, s)
		}
		return attrVal{sl: out}, true
	default:
		m, ok := v.(map[string]any)
		if !ok {
			ps.add(path, "must be an object of numbers for a string_number_map attribute, not %s", jsonKind(v))
			return attrVal{}, false
		}
		if len(m) > 10 {
			ps.add(path, "has %d entries; the limit is 10", len(m))
			return attrVal{}, false
		}
		out := map[string]float64{}
		for k, e := range m {
			f, ok := toNumber(e, jpath(path, k), ps)
			if !ok {
				return attrVal{}, false
			}
			out[k] = f
		}
		return attrVal{m: out}, true
	}
}

func appendDistinct(l []string, s string) []string {
	for _, x := range l {
		if x == s {
			return l
		}
	}
	return append(l, s)
}

func (rs *RuleSet) parseTeams(list []any, ps *problems) {
	if len(list) == 0 {
		ps.add("teams", "must define at least one team")
		return
	}
	names := map[string]string{}
	for o := range objects(list, "teams", ps) {
		path := o.path
		name, nok := o.name(func(name string) string {
			if prev, dup := names[name]; dup {
				return fmt.Sprintf("team name %q is already used by %s", name, prev)
			}
			return ""
		})
		maxP, maxOK := o.integer("maxPlayers", true, 1)
		minP, minOK := o.integer("minPlayers", true, 0)
		qty := 1
		if o.has("quantity") {
			q, ok := o.integer("quantity", false, 1)
			if ok {
				qty = q
			}
		}
		o.done()
		if maxOK && minOK && minP > maxP {
			ps.add(o.p("minPlayers"), "team sizes are impossible to satisfy: minPlayers %d > maxPlayers %d", minP, maxP)
		}
		if !nok || !maxOK || !minOK {
			continue
		}
		di := len(rs.defs)
		d := teamDef{path: path, name: name, quantity: qty}
		d.pMin = rs.addParam("teams["+name+"].minPlayers", -1, float64(minP), true)
		d.pMax = rs.addParam("teams["+name+"].maxPlayers", -1, float64(maxP), true)
		rs.defs = append(rs.defs, d)
		names[name] = path
		if qty == 1 {
			rs.slots = append(rs.slots, slot{name: name, def: di})
			continue
		}
		for n := 1; n <= qty; n++ {
			cn := name + "_" + strconv.Itoa(n)
			if prev, dup := names[cn]; dup {
				ps.add(o.p("quantity"), "copy name %q collides with %s", cn, prev)
			}
			names[cn] = path + " (copy " + cn + ")"
			rs.slots = append(rs.slots, slot{name: cn, def: di})
		}
		rs.maxPlayers += maxP * qty
	}
	// Copies registered before a later team of the same name were not caught
	// above when the plain team came second; check again for collisions.
	for _, d := range rs.defs {
		if d.quantity == 1 {
			continue
		}
		for _, o := range rs.defs {
			if o.quantity == 1 && strings.HasPrefix(o.name, d.name+"_") {
				if n, err := strconv.Atoi(o.name[len(d.name)+1:]); err == nil && n >= 1 && n <= d.quantity {
					ps.add("teams", "team %q collides with a copy of team %q", o.name, d.name)
				}
			}
		}
	}
	for _, d := range rs.defs {
		if d.quantity == 1 {
			rs.maxPlayers += int(rs.params[d.pMax])
		}
	}
	if rs.maxPlayers > 200 {
		ps.add("teams", "a match may hold at most 200 players; these teams hold up to %d", rs.maxPlayers)
	}
}

func (rs *RuleSet) parseAlgorithm(v any, ps *problems) {
	a := &rs.algo
	a.strategy = StrategyExhaustive
	a.backfillPriority = "normal"
	o, ok := newObj(v, "algorithm", ps)
	if !ok {
		return
	}
	if s, ok := o.enum("strategy", false, StrategyExhaustive, StrategyBalanced); ok {
		a.strategy = s
	}
	bal := a.strategy == StrategyBalanced
	if s, ok := o.enum("batchingPreference", false, "random", "sorted", "largestPopulation", "fastestRegion"); ok {
		a.batching = s
		if bal && (s == "random" || s == "sorted") {
			ps.add(o.p("batchingPreference"), "%q only works with strategy exhaustiveSearch; balanced takes \"largestPopulation\" or \"fastestRegion\"", s)
		}
		if !bal && (s == "largestPopulation" || s == "fastestRegion") {
			ps.add(o.p("batchingPreference"), "%q only works with strategy balanced; exhaustiveSearch takes \"random\" or \"sorted\"", s)
		}
	}
	if a.batching == "" {
		a.batching = "random"
		if bal {
			a.batching = "largestPopulation"
		}
	}
	sortErr := false
	if l, ok := o.arr("sortByAttributes", false); ok {
		if bal {
			ps.warn(o.p("sortByAttributes"), "only used with strategy exhaustiveSearch; ignored")
		}
		for i, e := range l {
			p := jindex(o.p("sortByAttributes"), i)
			s, ok := e.(string)
			if !ok {
				ps.add(p, "must be an attribute name")
				sortErr = true
				continue
			}
			ai, ok := rs.attrIndex[s]
			if !ok {
				ps.add(p, "no attribute named %q%s", s, suggest(s, rs.attrNames()))
				sortErr = true
				continue
			}
			if rs.attrs[ai].Type == AttrStringNumberMap {
				ps.add(p, "attribute %q is a string_number_map, which cannot be sorted", s)
				sortErr = true
				continue
			}
			a.sortBy = append(a.sortBy, ai)
		}
	} else if o.has("sortByAttributes") {
		sortErr = true
	}
	if a.batching == "sorted" && !bal && len(a.sortBy) == 0 && !sortErr {
		ps.add(o.p("sortByAttributes"), "must name at least one attribute when batchingPreference is \"sorted\"")
	}
	if s, ok := o.str("balancedAttribute", false); ok {
		if !bal {
			ps.warn(o.p("balancedAttribute"), "only used with strategy balanced; ignored")
		}
		ai, found := rs.attrIndex[s]
		switch {
		case !found:
			ps.add(o.p("balancedAttribute"), "no attribute named %q%s", s, suggest(s, rs.attrNames()))
		case rs.attrs[ai].Type != AttrNumber:
			ps.add(o.p("balancedAttribute"), "attribute %q is a %s; it must be a number", s, rs.attrs[ai].Type)
		default:
			a.balancedAttr, a.hasBalancedAttr = ai, true
		}
	} else if bal && !o.has("balancedAttribute") {
		ps.add(o.p("balancedAttribute"), "is required when strategy is \"balanced\"")
	}
	if s, ok := o.enum("expansionAgeSelection", false, "newest", "oldest"); ok {
		a.expansionOldest = s == "oldest"
	}
	if s, ok := o.enum("backfillPriority", false, "normal", "low", "high"); ok {
		a.backfillPriority = s
	}
	o.done()
}

// classify decides small or large match building.
func (rs *RuleSet) classify(ps *problems) {
	if rs.maxPlayers > 40 {
		rs.large = true
		if rs.algo.strategy != StrategyBalanced {
			ps.add("algorithm.strategy", "a rule set for more than 40 players (these teams hold %d) must use strategy \"balanced\"", rs.maxPlayers)
		}
		return
	}
	if rs.algo.strategy == StrategyBalanced {
		rs.large = true
		ps.warn("algorithm.strategy", "\"balanced\" is meant for matches of 41 to 200 players; the large-match algorithm will be used")
	}
}

// HasLatency reports whether the rule set has a latency rule.
func (rs *RuleSet) HasLatency() bool { return rs.hasLatency }

// BalancedAttribute returns the balanced strategy's attribute, or "".
func (rs *RuleSet) BalancedAttribute() string {
	if !rs.algo.hasBalancedAttr {
		return ""
	}
	return rs.attrs[rs.algo.balancedAttr].Name
}
