package flexmatch_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"pgregory.net/rapid"
)

// The property tests draw rule sets from a small grammar, draw pools of
// tickets, run the engine, and check its matches with an evaluator written
// here independently of the engine's.

type gStep struct{ wait, value float64 }

type gTeam struct {
	name     string
	min, max int
	minSteps []gStep
}

type gRules struct {
	teams       []gTeam
	spread      float64 // max−min skill bound; <0 when absent
	spreadSteps []gStep
	floor       float64 // every skill ≥ floor; <0 when absent
	equal       bool    // teams 0 and 1 have equal counts
	medics      int     // at most this many medics; <0 when absent
	maxLat      float64 // <0 when absent
	latSteps    []gStep
	region      bool // batchDistance on region
	oldest      bool
	balance     float64   // team averages within this of the match average; <0 when absent
	lowOrHigh   []float64 // compound or(all skill ≤ lo, all skill ≥ hi); empty when absent
}

type gPlayer struct {
	id     string
	skill  float64
	medic  bool
	region string
	lat    map[string]int
}

type gTicket struct {
	id      string
	start   float64
	players []gPlayer
}

func drawSteps(t *rapid.T, label string, lo, hi float64) []gStep {
	n := rapid.IntRange(0, 2).Draw(t, label+"Steps")
	var out []gStep
	wait := 0.0
	for range n {
		wait += float64(rapid.IntRange(5, 15).Draw(t, label+"Wait"))
		v := float64(rapid.IntRange(int(lo), int(hi)).Draw(t, label+"Value"))
		out = append(out, gStep{wait, v})
	}
	return out
}

func drawRules(t *rapid.T, fixedSizes bool) gRules {
	var g gRules
	nt := rapid.IntRange(1, 2).Draw(t, "teams")
	for i := range nt {
		mx := rapid.IntRange(1, 3).Draw(t, "max")
		mn := mx
		if !fixedSizes {
			mn = rapid.IntRange(0, mx).Draw(t, "min")
		}
		tm := gTeam{name: fmt.Sprintf("team%d", i), min: mn, max: mx}
		if !fixedSizes && mn > 1 && rapid.Bool().Draw(t, "minExpands") {
			tm.minSteps = []gStep{{float64(rapid.IntRange(5, 25).Draw(t, "minWait")), float64(mn - 1)}}
		}
		g.teams = append(g.teams, tm)
	}
	g.spread, g.floor, g.medics, g.maxLat = -1, -1, -1, -1
	if rapid.Bool().Draw(t, "hasSpread") {
		g.spread = float64(rapid.IntRange(0, 20).Draw(t, "spread"))
		g.spreadSteps = drawSteps(t, "spread", g.spread, 40)
	}
	if rapid.Bool().Draw(t, "hasFloor") {
		g.floor = float64(rapid.IntRange(0, 20).Draw(t, "floor"))
	}
	// Equal sizes only where the size ranges overlap; otherwise Parse rightly
	// rejects the rule set as impossible.
	g.equal = nt == 2 && max(g.teams[0].min, g.teams[1].min) <= min(g.teams[0].max, g.teams[1].max) &&
		rapid.Bool().Draw(t, "equal")
	if rapid.Bool().Draw(t, "hasMedics") {
		g.medics = rapid.IntRange(0, 2).Draw(t, "medics")
	}
	if rapid.Bool().Draw(t, "hasLatency") {
		g.maxLat = float64(rapid.IntRange(30, 150).Draw(t, "maxLat"))
		g.latSteps = drawSteps(t, "lat", g.maxLat, 250)
	}
	g.region = rapid.Bool().Draw(t, "region")
	g.oldest = rapid.Bool().Draw(t, "oldest")
	g.balance = -1
	if rapid.Bool().Draw(t, "hasBalance") {
		g.balance = float64(rapid.IntRange(0, 15).Draw(t, "balance"))
	}
	if rapid.Bool().Draw(t, "hasCompound") {
		lo := float64(rapid.IntRange(0, 20).Draw(t, "lo"))
		g.lowOrHigh = []float64{lo, lo + float64(rapid.IntRange(0, 20).Draw(t, "gap"))}
	}
	return g
}

func (g gRules) body() []byte {
	attrs := []any{
		map[string]any{"name": "skill", "type": "number", "default": 0},
		map[string]any{"name": "roles", "type": "string_list", "default": []string{}},
		map[string]any{"name": "region", "type": "string", "default": "eu"},
	}
	teams, rules, exps := []any{}, []any{}, []any{}
	for _, tm := range g.teams {
		teams = append(teams, map[string]any{"name": tm.name, "minPlayers": tm.min, "maxPlayers": tm.max})
		if len(tm.minSteps) > 0 {
			exps = append(exps, expansionJSON("teams["+tm.name+"].minPlayers", tm.minSteps))
		}
	}
	if g.spread >= 0 {
		rules = append(rules, map[string]any{"name": "Spread", "type": "distance",
			"measurements":   []string{"max(flatten(teams[*].players.attributes[skill]))"},
			"referenceValue": "min(flatten(teams[*].players.attributes[skill]))", "maxDistance": g.spread})
		if len(g.spreadSteps) > 0 {
			exps = append(exps, expansionJSON("rules[Spread].maxDistance", g.spreadSteps))
		}
	}
	if g.floor >= 0 {
		rules = append(rules, map[string]any{"name": "Floor", "type": "comparison",
			"measurements": "flatten(teams[*].players.attributes[skill])", "referenceValue": g.floor, "operation": ">="})
	}
	if g.equal {
		rules = append(rules, map[string]any{"name": "Equal", "type": "comparison",
			"measurements":   "count(teams[" + g.teams[0].name + "].players)",
			"referenceValue": "count(teams[" + g.teams[1].name + "].players)", "operation": "="})
	}
	if g.medics >= 0 {
		rules = append(rules, map[string]any{"name": "Medics", "type": "collection", "operation": "contains",
			"measurements": "flatten(teams[*].players.attributes[roles])", "referenceValue": "medic", "maxCount": g.medics})
	}
	if g.maxLat >= 0 {
		rules = append(rules, map[string]any{"name": "Ping", "type": "latency", "maxLatency": g.maxLat})
		if len(g.latSteps) > 0 {
			exps = append(exps, expansionJSON("rules[Ping].maxLatency", g.latSteps))
		}
	}
	if g.region {
		rules = append(rules, map[string]any{"name": "Region", "type": "batchDistance", "batchAttribute": "region"})
	}
	if g.balance >= 0 {
		rules = append(rules, map[string]any{"name": "Balance", "type": "distance",
			"measurements":   "avg(teams[*].players.attributes[skill])",
			"referenceValue": "avg(flatten(teams[*].players.attributes[skill]))", "maxDistance": g.balance})
	}
	if len(g.lowOrHigh) == 2 {
		rules = append(rules,
			map[string]any{"name": "Low", "type": "comparison", "measurements": "flatten(teams[*].players.attributes[skill])", "referenceValue": g.lowOrHigh[0], "operation": "<="},
			map[string]any{"name": "High", "type": "comparison", "measurements": "flatten(teams[*].players.attributes[skill])", "referenceValue": g.lowOrHigh[1], "operation": ">="},
			map[string]any{"name": "LowOrHigh", "type": "compound", "statement": "or(Low, High)"})
	}
	age := "newest"
	if g.oldest {
		age = "oldest"
	}
	b, _ := json.Marshal(map[string]any{"ruleLanguageVersion": "1.0", "playerAttributes": attrs, "teams": teams,
		"rules": rules, "expansions": exps, "algorithm": map[string]any{"expansionAgeSelection": age}})
	return b
}

func expansionJSON(target string, steps []gStep) map[string]any {
	var s []any
	for _, st := range steps {
		s = append(s, map[string]any{"waitTimeSeconds": st.wait, "value": st.value})
	}
	return map[string]any{"target": target, "steps": s}
}

// waits lists the distinct step times, as the engine numbers its steps.
func (g gRules) waits() []float64 {
	set := map[float64]bool{}
	all := [][]gStep{g.spreadSteps, g.latSteps}
	for _, tm := range g.teams {
		all = append(all, tm.minSteps)
	}
	for _, ss := range all {
		for _, s := range ss {
			set[s.wait] = true
		}
	}
	var out []float64
	for w := range set {
		out = append(out, w)
	}
	sort.Float64s(out)
	return out
}

// at returns a parameter's value at step k.
func valueAt(base float64, steps []gStep, waits []float64, k int) float64 {
	v := base
	for _, s := range steps {
		if k > 0 && s.wait <= waits[k-1] {
			v = s.value
		}
	}
	return v
}

func drawTickets(t *rapid.T, maxN, maxParty int) []gTicket {
	n := rapid.IntRange(1, maxN).Draw(t, "tickets")
	var out []gTicket
	for i := range n {
		tk := gTicket{id: fmt.Sprintf("T%02d", i), start: float64(rapid.IntRange(0, 30).Draw(t, "start"))}
		size := rapid.IntRange(1, maxParty).Draw(t, "party")
		region := rapid.SampledFrom([]string{"eu", "us"}).Draw(t, "regionValue")
		for p := range size {
			gp := gPlayer{id: fmt.Sprintf("P%02d_%d", i, p), skill: float64(rapid.IntRange(0, 40).Draw(t, "skill")),
				medic: rapid.Bool().Draw(t, "medic"), region: region, lat: map[string]int{}}
			gp.lat["loc-a"] = rapid.IntRange(20, 200).Draw(t, "latA")
			if rapid.Bool().Draw(t, "hasB") {
				gp.lat["loc-b"] = rapid.IntRange(20, 200).Draw(t, "latB")
			}
			tk.players = append(tk.players, gp)
		}
		out = append(out, tk)
	}
	return out
}

func (tk gTicket) ticket() flexmatch.Ticket {
	out := flexmatch.Ticket{ID: tk.id, StartTime: epoch.Add(time.Duration(tk.start * float64(time.Second)))}
	for _, p := range tk.players {
		roles := []string{}
		if p.medic {
			roles = append(roles, "medic")
		}
		out.Players = append(out.Players, flexmatch.Player{ID: p.id, LatencyMs: p.lat, Attributes: map[string]flexmatch.AttributeValue{
			"skill": flexmatch.Number(p.skill), "roles": flexmatch.StringList(roles...), "region": flexmatch.String(p.region)}})
	}
	return out
}

// partySkill is a player's skill under partyAggregation avg.
func partySkill(tk gTicket) float64 {
	s := 0.0
	for _, p := range tk.players {
		s += p.skill
	}
	return s / float64(len(tk.players))
}

func partyMedic(tk gTicket) bool {
	for _, p := range tk.players {
		if p.medic {
			return true
		}
	}
	return false
}

// valid says whether tickets on the given teams form a valid match at step
// k, and why not.
func (g gRules) valid(tks []gTicket, team []int, k int) string {
	waits := g.waits()
	counts := make([]int, len(g.teams))
	for i, tk := range tks {
		counts[team[i]] += len(tk.players)
	}
	for i, tm := range g.teams {
		mn := int(valueAt(float64(tm.min), tm.minSteps, waits, k))
		if counts[i] < mn || counts[i] > tm.max {
			return fmt.Sprintf("team %s has %d players, want %d..%d", tm.name, counts[i], mn, tm.max)
		}
	}
	if g.spread >= 0 {
		lo, hi := 1e9, -1e9
		for _, tk := range tks {
			lo, hi = min(lo, partySkill(tk)), max(hi, partySkill(tk))
		}
		if d := valueAt(g.spread, g.spreadSteps, waits, k); hi-lo > d {
			return fmt.Sprintf("skill spread %v > %v", hi-lo, d)
		}
	}
	if g.floor >= 0 {
		for _, tk := range tks {
			if partySkill(tk) < g.floor {
				return fmt.Sprintf("skill %v < floor %v", partySkill(tk), g.floor)
			}
		}
	}
	if g.equal && counts[0] != counts[1] {
		return "team sizes differ"
	}
	if g.medics >= 0 {
		n := 0
		for _, tk := range tks {
			if partyMedic(tk) {
				n += len(tk.players)
			}
		}
		if n > g.medics {
			return fmt.Sprintf("%d medics > %d", n, g.medics)
		}
	}
	if g.maxLat >= 0 {
		lim := valueAt(g.maxLat, g.latSteps, waits, k)
		ok := false
		for _, loc := range []string{"loc-a", "loc-b"} {
			all := true
			for _, tk := range tks {
				sum, has := 0, true
				for _, p := range tk.players {
					ms, found := p.lat[loc]
					has = has && found
					sum += ms
				}
				all = all && has && float64(sum)/float64(len(tk.players)) <= lim
			}
			ok = ok || all
		}
		if !ok {
			return fmt.Sprintf("no location within %v ms for every ticket", lim)
		}
	}
	if g.region {
		for _, tk := range tks {
			if tk.players[0].region != tks[0].players[0].region {
				return "regions differ"
			}
		}
	}
	if g.balance >= 0 {
		sums, ns := make([]float64, len(g.teams)), make([]float64, len(g.teams))
		all, n := 0.0, 0.0
		for i, tk := range tks {
			v := partySkill(tk) * float64(len(tk.players))
			sums[team[i]] += v
			ns[team[i]] += float64(len(tk.players))
			all += v
			n += float64(len(tk.players))
		}
		for i := range g.teams {
			if ns[i] > 0 && n > 0 {
				if d := sums[i]/ns[i] - all/n; d > g.balance+1e-9 || -d > g.balance+1e-9 {
					return fmt.Sprintf("team %d average is %v from the match average, over %v", i, d, g.balance)
				}
			}
		}
	}
	if len(g.lowOrHigh) == 2 {
		low, high := true, true
		for _, tk := range tks {
			low = low && partySkill(tk) <= g.lowOrHigh[0]
			high = high && partySkill(tk) >= g.lowOrHigh[1]
		}
		if !low && !high {
			return "neither all low nor all high"
		}
	}
	return ""
}

// step computes the expansion step of a set of tickets at time now.
func (g gRules) step(tks []gTicket, now float64) int {
	ref := tks[0].start
	for _, tk := range tks {
		if g.oldest {
			ref = min(ref, tk.start)
		} else {
			ref = max(ref, tk.start)
		}
	}
	k := 0
	for _, w := range g.waits() {
		if w <= now-ref {
			k++
		}
	}
	return k
}

func TestPropertyMatchesAreValid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := drawRules(t, false)
		rs, err := flexmatch.Parse(g.body())
		if err != nil {
			t.Fatalf("grammar produced an invalid rule set: %v\n%s", err, g.body())
		}
		tickets := drawTickets(t, 20, 2)
		byID := map[string]gTicket{}
		for _, tk := range tickets {
			byID[tk.id] = tk
		}
		opt := flexmatch.Options{}
		if rapid.Bool().Draw(t, "greedy") {
			opt.ExactSearchTickets = -1
		}
		e := flexmatch.NewEngine(rs, opt)
		added := map[string]bool{}
		matched := map[string]bool{}
		for _, now := range []float64{0, 10, 20, 30, 45, 60} {
			for _, tk := range tickets {
				if !added[tk.id] && tk.start <= now {
					if err := e.Add(tk.ticket()); err != nil {
						t.Fatal(err)
					}
					added[tk.id] = true
				}
			}
			for _, m := range e.Cycle(epoch.Add(time.Duration(now) * time.Second)) {
				checkMatch(t, g, m, byID, matched, now)
			}
		}
	})
}

func checkMatch(t *rapid.T, g gRules, m flexmatch.Match, byID map[string]gTicket, matched map[string]bool, now float64) {
	var tks []gTicket
	teamOf := map[string]int{}
	for ti, mt := range m.Teams {
		if mt.Name != g.teams[ti].name {
			t.Fatalf("team %d is %q, want %q", ti, mt.Name, g.teams[ti].name)
		}
		for _, p := range mt.PlayerIDs {
			teamOf[p] = ti
		}
	}
	var team []int
	players := 0
	for _, id := range m.TicketIDs {
		if matched[id] {
			t.Fatalf("ticket %s is in two matches", id)
		}
		matched[id] = true
		tk := byID[id]
		tks = append(tks, tk)
		first, ok := teamOf[tk.players[0].id]
		if !ok {
			t.Fatalf("player %s of ticket %s is on no team", tk.players[0].id, id)
		}
		for _, p := range tk.players {
			if tm, ok := teamOf[p.id]; !ok || tm != first {
				t.Fatalf("party %s is split", id)
			}
		}
		team = append(team, first)
		players += len(tk.players)
	}
	if players != m.PlayerCount() {
		t.Fatalf("match lists %d players for tickets holding %d", m.PlayerCount(), players)
	}
	k := g.step(tks, now)
	if k != m.Step {
		t.Fatalf("match %v at step %d, want %d", m.TicketIDs, m.Step, k)
	}
	if why := g.valid(tks, team, k); why != "" {
		t.Fatalf("match %v at %vs (step %d) breaks a rule: %s\n%s", m.TicketIDs, now, k, why, g.body())
	}
}

// exhaustiveBest is an exhaustive search, written apart from the engine: over
// every way to form disjoint valid matches from the tickets at time now, the
// most players placed and, among the ways that place that many, the fewest
// matches (the objective the engine documents; with fixed team sizes it is
// simply the most matches).
func exhaustiveBest(g gRules, tks []gTicket, now float64) (players, matches int) {
	n := len(tks)
	size := make([]int, 1<<n) // players of a valid match, 0 when the set is none
	for mask := 1; mask < 1<<n; mask++ {
		var set []gTicket
		total := 0
		for i := range n {
			if mask&(1<<i) != 0 {
				set = append(set, tks[i])
				total += len(tks[i].players)
			}
		}
		k := g.step(set, now)
		team := make([]int, len(set))
		filled := make([]int, len(g.teams))
		var try func(i int) bool
		try = func(i int) bool {
			if i == len(set) {
				return g.valid(set, team, k) == ""
			}
			for tm := range g.teams {
				// A team's maximum never expands: an assignment past it
				// is invalid whatever the other tickets' teams.
				if filled[tm]+len(set[i].players) > g.teams[tm].max {
					continue
				}
				team[i] = tm
				filled[tm] += len(set[i].players)
				ok := try(i + 1)
				filled[tm] -= len(set[i].players)
				if ok {
					return true
				}
			}
			return false
		}
		if try(0) {
			size[mask] = total
		}
	}
	type best struct{ players, matches int }
	better := func(a, b best) bool {
		return a.players > b.players || a.players == b.players && a.matches < b.matches
	}
	memo := map[int]best{}
	var solve func(rem int) best
	solve = func(rem int) best {
		if rem == 0 {
			return best{}
		}
		if v, ok := memo[rem]; ok {
			return v
		}
		low := rem & -rem
		res := solve(rem &^ low) // the lowest ticket stays unmatched
		for sub := rem; sub > 0; sub = (sub - 1) & rem {
			if sub&low != 0 && size[sub] > 0 {
				rest := solve(rem &^ sub)
				if c := (best{rest.players + size[sub], rest.matches + 1}); better(c, res) {
					res = c
				}
			}
		}
		memo[rem] = res
		return res
	}
	b := solve(1<<n - 1)
	return b.players, b.matches
}

// TestPropertySmallPoolsMatchAsManyAsExhaustiveSearch: on pools of up to 12
// tickets the engine forms as many matches as an exhaustive search. With
// team sizes that may vary (minPlayers < maxPlayers) "as many" is measured
// in players, as FlexMatch fills teams toward maxPlayers: the engine places
// the most players any set of valid matches can, in the fewest matches.
func TestPropertySmallPoolsMatchAsManyAsExhaustiveSearch(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := drawRules(t, rapid.Bool().Draw(t, "fixedSizes"))
		rs, err := flexmatch.Parse(g.body())
		if err != nil {
			t.Fatalf("grammar produced an invalid rule set: %v", err)
		}
		tickets := drawTickets(t, 12, 2) // the bound: pools of up to 12 tickets
		e := flexmatch.NewEngine(rs, flexmatch.Options{})
		for _, tk := range tickets {
			if err := e.Add(tk.ticket()); err != nil {
				t.Fatal(err)
			}
		}
		const now = 30.0
		got := e.Cycle(epoch.Add(now * time.Second))
		byID := map[string]gTicket{}
		for _, tk := range tickets {
			byID[tk.id] = tk
		}
		matched := map[string]bool{}
		placed := 0
		var ids []string
		for _, m := range got {
			checkMatch(t, g, m, byID, matched, now)
			for _, id := range m.TicketIDs {
				placed += len(byID[id].players)
			}
			ids = append(ids, fmt.Sprint(m.TicketIDs))
		}
		wantPlayers, wantMatches := exhaustiveBest(g, tickets, now)
		if placed != wantPlayers || len(got) != wantMatches {
			t.Fatalf("engine placed %d players in %d matches %v; exhaustive search %d players in %d matches\n%s",
				placed, len(got), ids, wantPlayers, wantMatches, g.body())
		}
	})
}

// TestPropertyGreedyLeavesNoValidPair checks the greedy path's reach: for
// pair matches, once every expansion step has started, no two waiting tickets
// could still form a valid match.
func TestPropertyGreedyLeavesNoValidPair(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := gRules{spread: float64(rapid.IntRange(0, 10).Draw(t, "spread")), floor: -1, medics: -1,
			maxLat: float64(rapid.IntRange(40, 150).Draw(t, "maxLat")), balance: -1,
			region: rapid.Bool().Draw(t, "region"), oldest: rapid.Bool().Draw(t, "oldest")}
		if rapid.Bool().Draw(t, "oneTeam") {
			g.teams = []gTeam{{name: "team0", min: 2, max: 2}}
		} else {
			g.teams = []gTeam{{name: "team0", min: 1, max: 1}, {name: "team1", min: 1, max: 1}}
		}
		g.spreadSteps = []gStep{{10, g.spread + float64(rapid.IntRange(0, 10).Draw(t, "more"))}}
		rs, err := flexmatch.Parse(g.body())
		if err != nil {
			t.Fatalf("invalid: %v", err)
		}
		tickets := drawTickets(t, 30, 1)
		e := flexmatch.NewEngine(rs, flexmatch.Options{ExactSearchTickets: -1})
		added := map[string]bool{}
		waiting := map[string]gTicket{}
		const end = 45.0
		for _, now := range []float64{0, 5, 12, 20, 31, end} {
			for _, tk := range tickets {
				if !added[tk.id] && tk.start <= now {
					if err := e.Add(tk.ticket()); err != nil {
						t.Fatal(err)
					}
					added[tk.id] = true
					waiting[tk.id] = tk
				}
			}
			for _, m := range e.Cycle(epoch.Add(time.Duration(now) * time.Second)) {
				for _, id := range m.TicketIDs {
					delete(waiting, id)
				}
			}
		}
		var left []gTicket
		for _, tk := range waiting {
			left = append(left, tk)
		}
		sort.Slice(left, func(i, j int) bool { return left[i].id < left[j].id })
		for i := range left {
			for j := i + 1; j < len(left); j++ {
				pair := []gTicket{left[i], left[j]}
				k := g.step(pair, end)
				teams := []int{0, 0}
				if len(g.teams) == 2 {
					teams = []int{0, 1}
				}
				if g.valid(pair, teams, k) == "" {
					t.Fatalf("%s and %s still wait but form a valid match at step %d\n%s", left[i].id, left[j].id, k, g.body())
				}
			}
		}
	})
}
