package flexmatch

import "strings"

// baseKind is the element type of an expression value.
type baseKind uint8

const (
	bNum baseKind = iota
	bStr
	bPlayer
	bTeam
)

func (b baseKind) String() string {
	return [...]string{"number", "string", "player", "team"}[b]
}

// typ is an expression type: a base kind under depth levels of lists.
type typ struct {
	base  baseKind
	depth int
}

func (t typ) String() string {
	s := t.base.String()
	for range t.depth {
		s = "List<" + s + ">"
	}
	return s
}

type funcKind uint8

const (
	fnNone funcKind = iota
	fnMin
	fnMax
	fnAvg
	fnMedian
	fnSum
	fnCount
	fnStddev
	fnFlatten
	fnSetIntersection
)

var funcNames = map[string]funcKind{
	"min": fnMin, "max": fnMax, "avg": fnAvg, "median": fnMedian, "sum": fnSum,
	"count": fnCount, "stddev": fnStddev, "flatten": fnFlatten, "set_intersection": fnSetIntersection,
}

var funcList = []string{"min", "max", "avg", "median", "sum", "count", "stddev", "flatten", "set_intersection"}

type exprKind uint8

const (
	exSel exprKind = iota
	exFunc
	exNum
	exStr
	exList
)

type selWhat uint8

const (
	selTeams selWhat = iota
	selPlayers
	selPlayerID
	selAttr
)

// expr is a compiled property expression or literal.
type expr struct {
	kind exprKind
	fn   funcKind
	arg  *expr

	teams  []int // team slots selected
	nslots int   // number of team slots in the rule set
	multi  bool  // the selector yields a list of teams
	what   selWhat
	attr   int

	num  float64
	str  string
	list []string

	typ       typ
	usesCount bool
	usesSL    bool // reads a string_list attribute
	src       string
}

// exprEnv is what an expression may refer to.
type exprEnv struct {
	rs *RuleSet
}

type exprParser struct {
	scanner
	env exprEnv
}

// isExpression says whether a referenceValue string is an expression
// (docs/flexmatch.md, "Reading a rule set"): it starts with teams[, team[ or FUNC(.
func isExpression(s string) bool {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "teams[") || strings.HasPrefix(s, "team[") {
		return true
	}
	for _, f := range funcList {
		if strings.HasPrefix(s, f) {
			rest := strings.TrimLeft(s[len(f):], " \t\r\n")
			if strings.HasPrefix(rest, "(") {
				return true
			}
		}
	}
	return false
}

// parseExpr parses and type-checks an expression. It returns a reason on error.
func parseExpr(s string, env exprEnv) (*expr, string) {
	if len(s) > 4096 {
		return nil, "expression is longer than 4096 characters"
	}
	p := &exprParser{scanner: scanner{s: s}, env: env}
	e := p.expr(0)
	if reason := p.end(); reason != "" {
		return nil, reason
	}
	e.src = strings.TrimSpace(s)
	return e, ""
}

func (p *exprParser) fail(format string, args ...any) *expr {
	p.failf(format, args...)
	return nil
}

func (p *exprParser) word() string {
	p.ws()
	j := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.i++
			continue
		}
		break
	}
	return p.s[j:p.i]
}

func (p *exprParser) eat(c byte) bool {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *exprParser) expr(depth int) *expr {
	if depth > 32 {
		return p.fail("expression nests deeper than 32 levels")
	}
	at := p.i
	w := p.word()
	if w == "" {
		p.ws()
		if p.i >= len(p.s) {
			return p.fail("expression ends early")
		}
		return p.fail("%s", p.unexpected())
	}
	if w == "teams" || w == "team" {
		return p.path()
	}
	fn, ok := funcNames[w]
	if !ok {
		if w == "players" {
			return p.fail("players must be selected through teams[...], as in teams[*].players")
		}
		return p.fail("unknown function or selector %q at character %d%s", w, at+1, suggest(w, append(funcList, "teams")))
	}
	if !p.eat('(') {
		return p.fail("%s must be followed by (", w)
	}
	arg := p.expr(depth + 1)
	if arg == nil {
		return nil
	}
	if p.eat(',') {
		return p.fail("%s takes one argument", w)
	}
	if !p.eat(')') {
		return p.fail("missing ) after the argument of %s", w)
	}
	e := &expr{kind: exFunc, fn: fn, arg: arg, usesCount: arg.usesCount || fn == fnCount, usesSL: arg.usesSL}
	at0 := arg.typ
	switch fn {
	case fnMin, fnMax, fnAvg, fnMedian, fnSum, fnStddev:
		if at0.base != bNum || at0.depth < 1 {
			return p.fail("%s needs a list of numbers, not %s", w, at0)
		}
		e.typ = typ{bNum, at0.depth - 1}
	case fnCount:
		if at0.depth < 1 {
			return p.fail("count needs a list, not %s", at0)
		}
		e.typ = typ{bNum, at0.depth - 1}
	case fnFlatten:
		if at0.depth < 1 {
			return p.fail("flatten needs a list, not %s", at0)
		}
		e.typ = at0
		if at0.depth >= 2 {
			e.typ.depth--
		}
	case fnSetIntersection:
		if at0.base != bStr || at0.depth < 2 {
			return p.fail("set_intersection needs a list of string lists, not %s", at0)
		}
		e.typ = typ{bStr, at0.depth - 1}
	}
	return e
}

func (p *exprParser) path() *expr {
	rs := p.env.rs
	if !p.eat('[') {
		return p.fail("teams must be followed by [")
	}
	j := strings.IndexByte(p.s[p.i:], ']')
	if j < 0 {
		return p.fail("missing ] after teams[")
	}
	inner := p.s[p.i : p.i+j]
	p.i += j + 1
	e := &expr{kind: exSel, nslots: len(rs.slots)}
	if !p.selectTeams(e, inner) {
		return nil
	}
	d := 0
	if e.multi {
		d = 1
	}
	e.what = selTeams
	e.typ = typ{bTeam, d}
	save := p.i
	if !p.eat('.') {
		return e
	}
	if w := p.word(); w != "players" {
		if w == "" {
			p.i = save
			return e
		}
		return p.fail("unknown selector %q after teams[...]; only .players is allowed%s", w, suggest(w, []string{"players"}))
	}
	e.what = selPlayers
	e.typ = typ{bPlayer, d + 1}
	save = p.i
	if p.eat('[') {
		w := p.word()
		if !strings.EqualFold(w, "playerId") || !p.eat(']') {
			return p.fail("players[...] only accepts playerId")
		}
		e.what = selPlayerID
		e.typ = typ{bStr, d + 1}
		return e
	}
	p.i = save
	if !p.eat('.') {
		return e
	}
	return p.attribute(e, d)
}

// selectTeams sets e.teams to the team slots the names inside teams[...]
// select ("*" for all); it reports false after recording an error.
func (p *exprParser) selectTeams(e *expr, inner string) bool {
	rs := p.env.rs
	parts := strings.Split(inner, ",")
	for _, part := range parts {
		name := strings.TrimSpace(part)
		if name == "*" {
			if len(parts) > 1 {
				p.fail("* cannot be combined with team names")
				return false
			}
			for i := range rs.slots {
				e.teams = append(e.teams, i)
			}
			e.multi = true
			continue
		}
		if name == "" {
			p.fail("empty team name in teams[%s]", inner)
			return false
		}
		slots, ok := rs.teamSlots(name)
		if !ok {
			p.fail("no team named %q%s", name, suggest(name, rs.teamNames()))
			return false
		}
		if len(slots) > 1 {
			e.multi = true
		} else if rs.defs[rs.slots[slots[0]].def].quantity > 1 {
			rs.namesCopies = true
		}
		e.teams = append(e.teams, slots...)
	}
	if len(parts) > 1 {
		e.multi = true
	}
	return true
}

// attribute parses the ".attributes[NAME]" that follows players in a
// selector of depth d.
func (p *exprParser) attribute(e *expr, d int) *expr {
	rs := p.env.rs
	if w := p.word(); w != "attributes" {
		return p.fail("unknown selector %q after players; use .attributes[NAME] or [playerId]%s", w, suggest(w, []string{"attributes"}))
	}
	if !p.eat('[') {
		return p.fail("attributes must be followed by [NAME]")
	}
	k := strings.IndexByte(p.s[p.i:], ']')
	if k < 0 {
		return p.fail("missing ] after attributes[")
	}
	name := strings.TrimSpace(p.s[p.i : p.i+k])
	p.i += k + 1
	ai, ok := rs.attrIndex[name]
	if !ok {
		return p.fail("no attribute named %q%s", name, suggest(name, rs.attrNames()))
	}
	a := rs.attrs[ai]
	e.what = selAttr
	e.attr = ai
	switch a.Type {
	case AttrNumber:
		e.typ = typ{bNum, d + 1}
	case AttrString:
		e.typ = typ{bStr, d + 1}
	case AttrStringList:
		e.typ = typ{bStr, d + 2}
		e.usesSL = true
	default:
		return p.fail("attribute %q is a string_number_map, which expressions cannot read (use a sort rule's mapKey)", name)
	}
	return e
}
