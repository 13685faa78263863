package flexmatch

import "strings"

type cop uint8

const (
	cRef cop = iota
	cAnd
	cOr
	cNot
	cXor
)

// cnode is a node of a compound statement.
type cnode struct {
	op   cop
	rule int
	kids []*cnode
}

func (n *cnode) walk(f func(*cnode)) {
	f(n)
	for _, k := range n.kids {
		k.walk(f)
	}
}

type stmtParser struct {
	scanner
	rs   *RuleSet
	self string
	all  map[string]bool
}

// parseStatement parses a compound statement over rules defined earlier.
func (rs *RuleSet) parseStatement(s, self string, all map[string]bool) (*cnode, string) {
	p := &stmtParser{scanner: scanner{s: s}, rs: rs, self: self, all: all}
	n := p.term(0)
	if reason := p.end(); reason != "" {
		return nil, reason
	}
	return n, ""
}

func (p *stmtParser) fail(format string, args ...any) *cnode {
	p.failf(format, args...)
	return nil
}

func (p *stmtParser) name() string {
	p.ws()
	j := p.i
	for p.i < len(p.s) && strings.IndexByte("(),", p.s[p.i]) < 0 {
		p.i++
	}
	return strings.TrimSpace(p.s[j:p.i])
}

func (p *stmtParser) term(depth int) *cnode {
	if depth > 32 {
		return p.fail("statement nests deeper than 32 levels")
	}
	w := p.name()
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		ops := map[string]cop{"and": cAnd, "or": cOr, "not": cNot, "xor": cXor}
		op, ok := ops[w]
		if !ok {
			return p.fail("unknown operator %q; use and, or, not or xor%s", w, suggest(w, []string{"and", "or", "not", "xor"}))
		}
		p.i++
		n := &cnode{op: op}
		for {
			k := p.term(depth + 1)
			if k == nil {
				return nil
			}
			n.kids = append(n.kids, k)
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ')' {
				p.i++
				break
			}
			return p.fail("missing ) in %s(...)", w)
		}
		switch {
		case op == cNot && len(n.kids) != 1:
			return p.fail("not takes exactly one argument, not %d", len(n.kids))
		case op == cXor && len(n.kids) != 2:
			return p.fail("xor takes exactly two arguments, not %d", len(n.kids))
		case (op == cAnd || op == cOr) && len(n.kids) < 2:
			return p.fail("%s takes two or more arguments", w)
		}
		return n
	}
	if w == "" {
		return p.fail("expected a rule name or and/or/not/xor(...) at character %d", p.i+1)
	}
	if w == p.self {
		return p.fail("a compound rule cannot reference itself")
	}
	ri, ok := p.rs.ruleIndex[w]
	if !ok {
		if p.all[w] {
			return p.fail("rule %q is defined after this compound rule; a compound rule may only reference rules defined before it", w)
		}
		return p.fail("no rule named %q%s", w, suggest(w, p.rs.RuleNames()))
	}
	k := p.rs.rules[ri].kind
	if k == rkBatchDistance || k.isSort() {
		return p.fail("rule %q is a %s rule, which a compound rule cannot reference", w, k)
	}
	return &cnode{op: cRef, rule: ri}
}
