package session

import (
	"fmt"
	"strconv"
	"strings"
)

// SearchGameSessions' expression language, as GameLift documents it
// (https://docs.aws.amazon.com/gamelift/latest/apireference/API_SearchGameSessions.html).
//
//	expr       := or
//	or         := and ( OR and )*
//	and        := not ( AND not )*
//	not        := NOT not | "(" expr ")" | comparison
//	comparison := operand op value
//	op         := = | <> | < | > | <= | >=
//	value      := number | true | false | 'string' | "string"   (\ escapes the next character)
//	sort       := operand ( ASC | DESC )
//
// Operands: gameSessionId, gameSessionName, gameSessionProperties.<key>
// (strings: = and <> only), maximumSessions, creationTimeMillis,
// playerSessionCount (numbers: all six), hasAvailablePlayerSessions
// (boolean: = and <>). Keywords are matched without regard to case. A
// comparison on a property the game session does not have is false.

// SyntaxError is a bad expression: Pos is the 1-based character position
// where the problem starts.
type SyntaxError struct {
	Pos int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("at position %d: %s", e.Pos, e.Msg) }

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tString
	tOp
	tLParen
	tRParen
)

type token struct {
	kind tokKind
	text string // identifier, operator, or the unescaped string
	num  float64
	pos  int // 1-based
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "the end of the expression"
	case tString:
		return strconv.Quote(t.text)
	}
	return "'" + t.text + "'"
}

func lex(s string) ([]token, error) {
	var toks []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		c := rs[i]
		pos := i + 1
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{kind: tLParen, text: "(", pos: pos})
			i++
		case c == ')':
			toks = append(toks, token{kind: tRParen, text: ")", pos: pos})
			i++
		case c == '=':
			toks = append(toks, token{kind: tOp, text: "=", pos: pos})
			i++
		case c == '<' || c == '>':
			op := string(c)
			if i+1 < len(rs) && (rs[i+1] == '=' || (c == '<' && rs[i+1] == '>')) {
				op += string(rs[i+1])
			}
			toks = append(toks, token{kind: tOp, text: op, pos: pos})
			i += len(op)
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(rs) && rs[j] != c; j++ {
				if rs[j] == '\\' && j+1 < len(rs) {
					j++
				}
				b.WriteRune(rs[j])
			}
			if j >= len(rs) {
				return nil, &SyntaxError{Pos: pos, Msg: "string is not closed"}
			}
			toks = append(toks, token{kind: tString, text: b.String(), pos: pos})
			i = j + 1
		case c == '-' || c == '.' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(rs) && (rs[j] == '.' || (rs[j] >= '0' && rs[j] <= '9') || rs[j] == 'e' || rs[j] == 'E' ||
				((rs[j] == '-' || rs[j] == '+') && (rs[j-1] == 'e' || rs[j-1] == 'E'))) {
				j++
			}
			text := string(rs[i:j])
			n, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return nil, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("%q is not a number", text)}
			}
			toks = append(toks, token{kind: tNumber, text: text, num: n, pos: pos})
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(rs) && isIdentPart(rs[j]) {
				j++
			}
			toks = append(toks, token{kind: tIdent, text: string(rs[i:j]), pos: pos})
			i = j
		default:
			return nil, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("unexpected character %q", c)}
		}
	}
	return append(toks, token{kind: tEOF, pos: len(rs) + 1}), nil
}

func isIdentStart(c rune) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isIdentPart(c rune) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'
}

// Operand value types.
type valueType int

const (
	typeString valueType = iota
	typeNumber
	typeBool
)

const propertyPrefix = "gameSessionProperties."

var operandTypes = map[string]valueType{
	"gameSessionId":              typeString,
	"gameSessionName":            typeString,
	"maximumSessions":            typeNumber,
	"creationTimeMillis":         typeNumber,
	"playerSessionCount":         typeNumber,
	"hasAvailablePlayerSessions": typeBool,
}

func operandType(name string) (valueType, bool) {
	if strings.HasPrefix(name, propertyPrefix) && len(name) > len(propertyPrefix) {
		return typeString, true
	}
	t, ok := operandTypes[name]
	return t, ok
}

// Row is what an expression is evaluated against.
type Row struct {
	ID, Name           string
	Properties         map[string]string
	MaximumSessions    float64
	CreationTimeMillis float64
	PlayerSessionCount float64
	HasAvailable       bool
}

// value returns an operand's value; ok is false for a missing property.
func (r *Row) value(operand string) (s string, n float64, b bool, ok bool) {
	switch operand {
	case "gameSessionId":
		return r.ID, 0, false, true
	case "gameSessionName":
		return r.Name, 0, false, true
	case "maximumSessions":
		return "", r.MaximumSessions, false, true
	case "creationTimeMillis":
		return "", r.CreationTimeMillis, false, true
	case "playerSessionCount":
		return "", r.PlayerSessionCount, false, true
	case "hasAvailablePlayerSessions":
		return "", 0, r.HasAvailable, true
	}
	v, ok := r.Properties[strings.TrimPrefix(operand, propertyPrefix)]
	return v, 0, false, ok
}

// Filter is a parsed FilterExpression.
type Filter struct{ root node }

// Match reports whether the row satisfies the filter (a nil Filter matches
// everything).
func (f *Filter) Match(r *Row) bool { return f == nil || f.root.eval(r) }

// String renders the filter fully parenthesised (used by tests).
func (f *Filter) String() string { return f.root.String() }

type node interface {
	eval(*Row) bool
	String() string
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ x node }
type cmpNode struct {
	operand string
	op      string
	typ     valueType
	s       string
	n       float64
	b       bool
}

func (n andNode) eval(r *Row) bool { return n.l.eval(r) && n.r.eval(r) }
func (n orNode) eval(r *Row) bool  { return n.l.eval(r) || n.r.eval(r) }
func (n notNode) eval(r *Row) bool { return !n.x.eval(r) }
func (n andNode) String() string   { return "(" + n.l.String() + " AND " + n.r.String() + ")" }
func (n orNode) String() string    { return "(" + n.l.String() + " OR " + n.r.String() + ")" }
func (n notNode) String() string   { return "(NOT " + n.x.String() + ")" }
func (n cmpNode) String() string {
	switch n.typ {
	case typeString:
		return n.operand + " " + n.op + " '" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(n.s) + "'"
	case typeBool:
		return n.operand + " " + n.op + " " + strconv.FormatBool(n.b)
	}
	return n.operand + " " + n.op + " " + strconv.FormatFloat(n.n, 'g', -1, 64)
}

func (n cmpNode) eval(r *Row) bool {
	s, num, b, ok := r.value(n.operand)
	if !ok {
		return false
	}
	switch n.typ {
	case typeString:
		return (s == n.s) == (n.op == "=")
	case typeBool:
		return (b == n.b) == (n.op == "=")
	}
	switch n.op {
	case "=":
		return num == n.n
	case "<>":
		return num != n.n
	case "<":
		return num < n.n
	case ">":
		return num > n.n
	case "<=":
		return num <= n.n
	}
	return num >= n.n
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }
func (p *parser) keyword(k string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, k)
}

// ParseFilter parses a FilterExpression; errors are *SyntaxError.
func ParseFilter(s string) (*Filter, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tEOF {
		return nil, &SyntaxError{Pos: 1, Msg: "the expression is empty"}
	}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, &SyntaxError{Pos: t.pos, Msg: "expected AND, OR or the end of the expression, found " + t.describe()}
	}
	return &Filter{root: n}, nil
}

const maxDepth = 100

func (p *parser) or(depth int) (node, error) {
	return p.chain(depth, "OR", p.and, func(l, r node) node { return orNode{l, r} })
}

func (p *parser) and(depth int) (node, error) {
	return p.chain(depth, "AND", p.not, func(l, r node) node { return andNode{l, r} })
}

// chain parses operands joined by keyword, grouping from the left: the
// grammar of both binary operators, each over the one that binds tighter.
func (p *parser) chain(depth int, keyword string, operand func(int) (node, error), join func(l, r node) node) (node, error) {
	l, err := operand(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword(keyword) {
		p.next()
		r, err := operand(depth)
		if err != nil {
			return nil, err
		}
		l = join(l, r)
	}
	return l, nil
}

func (p *parser) not(depth int) (node, error) {
	if depth > maxDepth {
		return nil, &SyntaxError{Pos: p.peek().pos, Msg: fmt.Sprintf("the expression nests deeper than %d levels", maxDepth)}
	}
	t := p.peek()
	switch {
	case p.keyword("NOT"):
		p.next()
		x, err := p.not(depth + 1)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case t.kind == tLParen:
		p.next()
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, &SyntaxError{Pos: c.pos, Msg: "expected ')' to close the '(' at position " + strconv.Itoa(t.pos) + ", found " + c.describe()}
		}
		return x, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (node, error) {
	t := p.next()
	if t.kind != tIdent {
		return nil, &SyntaxError{Pos: t.pos, Msg: "expected an operand such as gameSessionName or maximumSessions, found " + t.describe()}
	}
	typ, ok := operandType(t.text)
	if !ok {
		return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("unknown operand %q (operands: gameSessionId, gameSessionName, gameSessionProperties.<key>, maximumSessions, creationTimeMillis, playerSessionCount, hasAvailablePlayerSessions)", t.text)}
	}
	op := p.next()
	if op.kind != tOp {
		return nil, &SyntaxError{Pos: op.pos, Msg: "expected a comparison operator (=, <>, <, >, <=, >=) after " + t.text + ", found " + op.describe()}
	}
	if typ != typeNumber && op.text != "=" && op.text != "<>" {
		return nil, &SyntaxError{Pos: op.pos, Msg: fmt.Sprintf("%s takes only = and <>, not %s", t.text, op.text)}
	}
	v := p.next()
	n := cmpNode{operand: t.text, op: op.text, typ: typ}
	switch {
	case typ == typeString && v.kind == tString:
		n.s = v.text
	case typ == typeNumber && v.kind == tNumber:
		n.n = v.num
	case typ == typeBool && v.kind == tIdent && (strings.EqualFold(v.text, "true") || strings.EqualFold(v.text, "false")):
		n.b = strings.EqualFold(v.text, "true")
	default:
		want := map[valueType]string{typeString: "a quoted string", typeNumber: "a number", typeBool: "true or false"}[typ]
		return nil, &SyntaxError{Pos: v.pos, Msg: fmt.Sprintf("%s is compared with %s, found %s", t.text, want, v.describe())}
	}
	return n, nil
}

// Sort is a parsed SortExpression.
type Sort struct {
	Operand string
	Desc    bool
}

// ParseSort parses a SortExpression: one operand, then ASC or DESC.
func ParseSort(s string) (*Sort, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	t := toks[0]
	if t.kind != tIdent {
		return nil, &SyntaxError{Pos: t.pos, Msg: "expected an operand to sort by, found " + t.describe()}
	}
	if _, ok := operandType(t.text); !ok {
		return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("unknown operand %q", t.text)}
	}
	d := toks[1]
	if d.kind != tIdent || (!strings.EqualFold(d.text, "ASC") && !strings.EqualFold(d.text, "DESC")) {
		return nil, &SyntaxError{Pos: d.pos, Msg: "expected ASC or DESC, found " + d.describe()}
	}
	if e := toks[2]; e.kind != tEOF {
		return nil, &SyntaxError{Pos: e.pos, Msg: "expected the end of the sort expression (one operand only), found " + e.describe()}
	}
	return &Sort{Operand: t.text, Desc: strings.EqualFold(d.text, "DESC")}, nil
}

// Less orders two rows by the sort; rows missing the operand go last.
func (s *Sort) Less(a, b *Row) bool {
	as, an, ab, aok := a.value(s.Operand)
	bs, bn, bb, bok := b.value(s.Operand)
	if aok != bok {
		return aok
	}
	if !aok {
		return false
	}
	typ, _ := operandType(s.Operand)
	var c int
	switch typ {
	case typeString:
		c = strings.Compare(as, bs)
	case typeBool:
		c = boolInt(ab) - boolInt(bb)
	default:
		switch {
		case an < bn:
			c = -1
		case an > bn:
			c = 1
		}
	}
	if s.Desc {
		c = -c
	}
	return c < 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
