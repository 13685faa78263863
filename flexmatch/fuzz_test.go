package flexmatch

import (
	"math"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bodies to Parse: it must never panic, must
// return either a rule set or a *ValidationError with at least one problem,
// and a rule set it accepts must be usable by an engine.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"ruleLanguageVersion":"1.0","teams":[{"name":"a","minPlayers":1,"maxPlayers":2}]}`))
	f.Add([]byte(`{"ruleLanguageVersion":"1.0","playerAttributes":[{"name":"skill","type":"number","default":1}],
	 "teams":[{"name":"red","minPlayers":1,"maxPlayers":2},{"name":"blue","minPlayers":1,"maxPlayers":2}],
	 "rules":[{"name":"S","type":"distance","measurements":["avg(teams[*].players.attributes[skill])"],
	           "referenceValue":"avg(flatten(teams[*].players.attributes[skill]))","maxDistance":10},
	          {"name":"C","type":"compound","statement":"not(S)"}],
	 "expansions":[{"target":"rules[S].maxDistance","steps":[{"waitTimeSeconds":5,"value":20}]}]}`))
	f.Add([]byte(`{"ruleLanguageVersion":"1.0" // comment
	}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"ruleLanguageVersion":"1.0","teams":[{"name":"a","minPlayers":50,"maxPlayers":100}],
	 "algorithm":{"strategy":"balanced","balancedAttribute":"x"},"playerAttributes":[{"name":"x","type":"number"}],
	 "rules":[{"name":"L","type":"latency","maxLatency":"100"},{"name":"B","type":"batchDistance","batchAttribute":"x","maxDistance":5}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rs, err := Parse(body)
		if err != nil {
			ve, ok := err.(*ValidationError)
			if !ok || len(ve.Problems) == 0 {
				t.Fatalf("error %v is not a ValidationError with problems", err)
			}
			for _, p := range ve.Problems {
				if p.Path == "" || p.Reason == "" {
					t.Fatalf("problem without path or reason: %+v", p)
				}
			}
			return
		}
		e := NewEngine(rs, Options{})
		now := time.Unix(1000, 0)
		for i := range 4 {
			p := Player{ID: string(rune('a' + i)), Attributes: map[string]AttributeValue{}, LatencyMs: map[string]int{"x": 10 + i}}
			_ = e.Add(Ticket{ID: string(rune('A' + i)), Players: []Player{p}, StartTime: now.Add(-time.Duration(i) * time.Second)})
		}
		e.Cycle(now)
		for i := range 4 {
			_, _ = e.Explain(string(rune('A'+i)), now)
		}
	})
}

// fuzzRuleSet declares what FuzzExpression's expressions may refer to.
const fuzzRuleSet = `{"ruleLanguageVersion":"1.0",
 "playerAttributes":[{"name":"skill","type":"number","default":0},{"name":"name","type":"string","default":"x"},
   {"name":"modes","type":"string_list","default":[]},{"name":"prefs","type":"string_number_map","default":{}}],
 "teams":[{"name":"red","minPlayers":0,"maxPlayers":3},{"name":"blue","minPlayers":0,"maxPlayers":3},{"name":"trio","minPlayers":0,"maxPlayers":2,"quantity":2}]}`

// FuzzExpression parses arbitrary expressions and evaluates the accepted
// ones over a match built from the fuzz input: no panic, and every value
// must have the shape the type checker promised.
func FuzzExpression(f *testing.F) {
	for _, s := range []string{
		"avg(teams[*].players.attributes[skill])",
		"max(count(teams[*].players))",
		"set_intersection(flatten(teams[*].players.attributes[modes]))",
		"flatten(teams[red, blue].players[playerId])",
		"stddev(flatten(teams[trio].players.attributes[skill]))",
		"median(flatten(teams[*].players.attributes[skill]))",
		"sum(teams[trio_1].players.attributes[skill])",
		"count(flatten(flatten(teams[*].players.attributes[modes])))",
		"team[red].players.attributes[name]",
		"avg(teams[*].players.attributes[name])",
		"min(",
	} {
		f.Add(s, []byte{3, 1, 4, 1, 5, 9, 2, 6})
	}
	rs, err := Parse([]byte(fuzzRuleSet))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string, data []byte) {
		x, why := parseExpr(src, exprEnv{rs: rs})
		if x == nil {
			if why == "" {
				t.Fatal("no expression and no reason")
			}
			return
		}
		c := fuzzMatch(rs, data)
		ev := &evaluator{rs: rs, teams: c.teams, agg: aggAvg}
		v := ev.eval(x)
		checkShape(t, ev, v, x.typ, src)
	})
}

// fuzzMatch builds a potential match from bytes: each byte adds a player.
func fuzzMatch(rs *RuleSet, data []byte) *cand {
	c := &cand{}
	c.reset(len(rs.slots))
	if len(data) > 12 {
		data = data[:12]
	}
	for i, b := range data {
		n := 1 + int(b%2)
		t := &wticket{id: string(rune('A' + i)), seq: uint64(i)}
		for p := range n {
			attrs := make([]attrVal, len(rs.attrs))
			attrs[0] = attrVal{n: float64(b) - 100}
			attrs[1] = attrVal{s: string(rune('a' + b%3))}
			attrs[2] = attrVal{sl: []string{"m" + string(rune('0'+b%4)), "m" + string(rune('0'+(b/4)%4))}[:1+p%2]}
			t.players = append(t.players, wplayer{id: t.id + string(rune('0'+p)), attrs: attrs})
		}
		c.push(t, int(b)%len(rs.slots))
	}
	return c
}

// checkShape verifies that v has type ty: lists nest exactly ty.depth deep
// and hold numbers or strings as promised (undefined allowed for
// aggregates of empty lists).
func checkShape(t *testing.T, ev *evaluator, v val, ty typ, src string) {
	t.Helper()
	if ty.depth == 0 {
		switch {
		case v.k == vUndef:
		case ty.base == bNum && v.k != vNum:
			t.Fatalf("%s: got kind %d, want a number", src, v.k)
		case ty.base == bNum && math.IsNaN(v.n):
			t.Fatalf("%s: got NaN", src)
		case ty.base == bStr && v.k != vStr:
			t.Fatalf("%s: got kind %d, want a string", src, v.k)
		case ty.base == bTeam && v.k != vTeam:
			t.Fatalf("%s: got kind %d, want a team", src, v.k)
		case ty.base == bPlayer && v.k != vPlayer:
			t.Fatalf("%s: got kind %d, want a player", src, v.k)
		}
		return
	}
	if v.k == vUndef {
		return
	}
	if v.k != vList {
		t.Fatalf("%s: got kind %d, want %s", src, v.k, ty)
	}
	for i := v.lo; i < v.hi; i++ {
		checkShape(t, ev, ev.a[i], typ{ty.base, ty.depth - 1}, src)
	}
}
