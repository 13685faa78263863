package flexmatch

import (
	"math"
	"sort"
	"strings"
)

type step struct {
	wait  float64
	value float64
}

// expansion relaxes one or more parameters over time.
type expansion struct {
	target string
	params []int
	steps  []step
	rule   int // rule index, or -1 for team targets
	teams  []int
}

func (rs *RuleSet) parseExpansions(list []any, ps *problems) {
	seen := map[int]string{}
	for o := range objects(list, "expansions", ps) {
		path := o.path
		x := expansion{rule: -1}
		target, tok := o.str("target", true)
		if tok {
			x.target = target
			tok = rs.parseTarget(&x, o.p("target"), ps)
		}
		stepsV, sok := o.arr("steps", true)
		o.done()
		if sok && len(stepsV) == 0 {
			ps.add(o.p("steps"), "must hold at least one step")
			sok = false
		}
		isTeam := x.rule < 0
		for j, sv := range stepsV {
			sp := jindex(o.p("steps"), j)
			so, ok := newObj(sv, sp, ps)
			if !ok {
				sok = false
				continue
			}
			w, wok := so.num("waitTimeSeconds", true)
			if wok && w < 0 {
				ps.add(so.p("waitTimeSeconds"), "must be a number ≥ 0")
				wok = false
			}
			if wok && len(x.steps) > 0 && w <= x.steps[len(x.steps)-1].wait {
				ps.add(so.p("waitTimeSeconds"), "must be greater than the previous step's %s", fmtNum(x.steps[len(x.steps)-1].wait))
				wok = false
			}
			val, vok := so.num("value", true)
			if vok && val < 0 {
				ps.add(so.p("value"), "must be a number ≥ 0")
				vok = false
			}
			if vok && isTeam && tok && val != math.Trunc(val) {
				ps.add(so.p("value"), "must be a whole number of players")
				vok = false
			}
			if vok && isTeam && tok && strings.HasSuffix(target, ".maxPlayers") && val < 1 {
				ps.add(so.p("value"), "maxPlayers must be at least 1")
				vok = false
			}
			so.done()
			if !wok || !vok {
				sok = false
				continue
			}
			x.steps = append(x.steps, step{wait: w, value: val})
		}
		if !tok || !sok {
			continue
		}
		dup := false
		for _, p := range x.params {
			if prev, ok := seen[p]; ok {
				ps.add(o.p("target"), "%s is already expanded by %s", rs.paramNames[p], prev)
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		for _, p := range x.params {
			seen[p] = path
		}
		rs.exps = append(rs.exps, x)
	}
}

// parseTarget resolves "rules[X].prop" or "teams[A,B].prop".
func (rs *RuleSet) parseTarget(x *expansion, path string, ps *problems) bool {
	t := strings.TrimSpace(x.target)
	open := strings.IndexByte(t, '[')
	closeB := strings.LastIndexByte(t, ']')
	if open < 0 || closeB < open || closeB+1 >= len(t) || t[closeB+1] != '.' {
		ps.add(path, "must look like rules[NAME].PROPERTY or teams[NAME].minPlayers, not %q", x.target)
		return false
	}
	comp := strings.TrimSpace(t[:open])
	inner := t[open+1 : closeB]
	prop := strings.TrimSpace(t[closeB+2:])
	switch comp {
	case "rules":
		name := strings.TrimSpace(inner)
		ri, ok := rs.ruleIndex[name]
		if !ok {
			ps.add(path, "no rule named %q%s", name, suggest(name, rs.RuleNames()))
			return false
		}
		r := rs.rules[ri]
		if r.kind == rkCompound {
			ps.add(path, "rule %q is a compound rule, which cannot be expanded; expand the rules it references", name)
			return false
		}
		p, ok := r.targets[prop]
		if !ok {
			var props []string
			for k := range r.targets {
				props = append(props, k)
			}
			sort.Strings(props)
			if len(props) == 0 {
				ps.add(path, "%s rule %q has no expandable property %q; it has no numeric property to expand", r.kind, name, prop)
			} else {
				ps.add(path, "%s rule %q has no expandable property %q; expandable: %s%s", r.kind, name, prop, strings.Join(props, ", "), suggest(prop, props))
			}
			return false
		}
		x.rule = ri
		x.params = []int{p}
		return true
	case "teams", "team":
		if prop != "minPlayers" && prop != "maxPlayers" {
			ps.add(path, "teams can only expand minPlayers or maxPlayers, not %q%s", prop, suggest(prop, []string{"minPlayers", "maxPlayers"}))
			return false
		}
		for _, part := range strings.Split(inner, ",") {
			name := strings.TrimSpace(part)
			if name == "*" {
				ps.add(path, "\"*\" is not allowed in expansion targets; list the teams by name")
				return false
			}
			found := false
			for di, d := range rs.defs {
				if d.name == name {
					found = true
					x.teams = append(x.teams, di)
					if prop == "minPlayers" {
						x.params = append(x.params, d.pMin)
					} else {
						x.params = append(x.params, d.pMax)
					}
				}
			}
			if !found {
				ps.add(path, "no team named %q%s", name, suggest(name, rs.teamNames()))
				return false
			}
		}
		return true
	case "algorithm":
		ps.add(path, "algorithm properties cannot be expanded")
		return false
	}
	ps.add(path, "must start with rules[ or teams[, not %q%s", comp, suggest(comp, []string{"rules", "teams"}))
	return false
}

// maxLevelCells bounds the precomputed parameter table so that a hostile
// rule set cannot make validation use much memory (a Muster limit).
const maxLevelCells = 1 << 20

// buildLevels precomputes the parameters at every expansion level and checks
// that every level is satisfiable.
func (rs *RuleSet) buildLevels(ps *problems) {
	set := map[float64]bool{}
	for _, x := range rs.exps {
		for _, s := range x.steps {
			set[s.wait] = true
		}
	}
	for w := range set {
		rs.waits = append(rs.waits, w)
	}
	sort.Float64s(rs.waits)
	if (len(rs.waits)+1)*len(rs.params) > maxLevelCells {
		ps.add("expansions", "%d distinct step times over %d expandable values is more than Muster precomputes (%d); use fewer distinct waitTimeSeconds", len(rs.waits), len(rs.params), maxLevelCells)
		rs.waits = nil
	}
	rs.levels = make([][]float64, len(rs.waits)+1)
	rs.levels[0] = rs.params
	bad := map[string]bool{}
	for _, d := range rs.defs {
		if rs.params[d.pMin] > rs.params[d.pMax] {
			bad[d.path] = true // reported where it was read
		}
	}
	for k := 1; k <= len(rs.waits); k++ {
		lv := append([]float64(nil), rs.params...)
		for _, x := range rs.exps {
			for _, s := range x.steps {
				if s.wait <= rs.waits[k-1] {
					for _, p := range x.params {
						lv[p] = s.value
					}
				}
			}
		}
		rs.levels[k] = lv
	}
	for k, lv := range rs.levels {
		if k == 0 {
			continue // base values were checked where they were read
		}
		when := "at the start"
		if k > 0 {
			when = "after " + fmtNum(rs.waits[k-1]) + " s"
		}
		for _, d := range rs.defs {
			if lv[d.pMin] > lv[d.pMax] && !bad[d.path] {
				bad[d.path] = true
				ps.add(d.path, "team sizes are impossible to satisfy %s: minPlayers %s > maxPlayers %s", when, fmtNum(lv[d.pMin]), fmtNum(lv[d.pMax]))
			}
		}
		for ri, r := range rs.rules {
			if r.pLo >= 0 && r.pHi >= 0 && lv[r.pLo] > lv[r.pHi] {
				ps.add(jindex("rules", ri), "bounds are impossible to satisfy %s: %s %s > %s %s", when,
					rs.paramNames[r.pLo], fmtNum(lv[r.pLo]), rs.paramNames[r.pHi], fmtNum(lv[r.pHi]))
				return
			}
		}
	}
	for i, x := range rs.exps {
		prev := rs.params[x.params[0]]
		name := rs.paramNames[x.params[0]]
		prop := name[strings.LastIndexByte(name, '.')+1:]
		for j, s := range x.steps {
			tight := strings.HasPrefix(prop, "max") && s.value < prev || strings.HasPrefix(prop, "min") && s.value > prev
			if tight {
				ps.warn(jindex(jindex("expansions", i)+".steps", j)+".value", "tightens %s from %s to %s", name, fmtNum(prev), fmtNum(s.value))
			}
			prev = s.value
		}
	}
}

// CheckTimeout reports expansion steps that start after the request timeout
// of a configuration using the rule set (docs/flexmatch.md, "Expansions").
func (rs *RuleSet) CheckTimeout(seconds float64) []Problem {
	var out []Problem
	for i, x := range rs.exps {
		last := x.steps[len(x.steps)-1]
		if last.wait > seconds {
			out = append(out, Problem{
				Path:   jindex(jindex("expansions", i)+".steps", len(x.steps)-1) + ".waitTimeSeconds",
				Reason: "step at " + fmtNum(last.wait) + " s starts after the request timeout of " + fmtNum(seconds) + " s",
			})
		}
	}
	return out
}
