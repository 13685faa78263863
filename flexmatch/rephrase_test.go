package flexmatch_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/musterhq/muster/flexmatch"
)

// The engine recognises common rule shapes and evaluates them by shortcut:
// a spread of one attribute bounds how far candidates may lie from the
// anchor, a count of one team's players is read from the team's size, and
// so on. A rule referenced by a compound rule is evaluated only through the
// compound, where no shortcut applies. So a rule set and its twin, whose
// rules are all referenced by one compound and(...), mean the same: on pools
// small enough for the exact search, both must place as many players in as
// many matches. A shortcut that misreads a shape makes the two differ. More
// twins say the same as the rule set: its teams listed last first; the
// same tickets added last first; its batchDistance on skill written as a
// spread rule a compound references; and every skill (and the skill floors)
// moved up alike. A case where the exact search goes over its budget, and
// the greedy search forms the matches, proves nothing and is skipped.

// rephraseTeam is a team definition of the drawn rule sets.
type rephraseTeam struct {
	name          string
	min, max, qty int
}

// rephraseRules is a drawn rule set: its teams, the rules a compound may
// reference, and the rules it may not (batchDistance, latency), which both
// twins hold alike, as they do the expansions.
type rephraseRules struct {
	teams      []rephraseTeam
	rules      []map[string]any
	standalone []map[string]any
	expansions []any
	algorithm  map[string]any
}

// drawSelector draws a team selector: every team, one team, or a list.
func drawSelector(t *rapid.T, teams []rephraseTeam, label string) string {
	if len(teams) == 1 || rapid.Bool().Draw(t, label+"All") {
		return "*"
	}
	var names []string
	for _, tm := range teams {
		if rapid.Bool().Draw(t, label+"Has"+tm.name) {
			names = append(names, tm.name)
		}
	}
	if len(names) == 0 {
		names = append(names, rapid.SampledFrom(teams).Draw(t, label+"One").name)
	}
	return strings.Join(names, ",")
}

func drawRephraseRules(t *rapid.T) rephraseRules {
	g := rephraseRules{expansions: []any{}, algorithm: map[string]any{}}
	slots := 0
	for i := range rapid.IntRange(1, 3).Draw(t, "teams") {
		tm := rephraseTeam{name: fmt.Sprintf("t%d", i), max: rapid.IntRange(1, 3).Draw(t, "max"), qty: 1}
		tm.min = rapid.IntRange(0, tm.max).Draw(t, "min")
		if slots < 3 && rapid.IntRange(0, 3).Draw(t, "copies") == 0 {
			tm.qty = 2
		}
		slots += tm.qty
		g.teams = append(g.teams, tm)
		if slots >= 4 {
			break
		}
	}
	skill := func(sel string) string { return "teams[" + sel + "].players.attributes[skill]" }
	for i := range rapid.IntRange(1, 3).Draw(t, "rules") {
		name := fmt.Sprintf("R%d", i)
		sel := drawSelector(t, g.teams, name)
		var r map[string]any
		switch rapid.IntRange(0, 5).Draw(t, name+"Kind") {
		case 0: // the spread of skill over the selected teams
			r = map[string]any{"type": "distance", "measurements": "max(flatten(" + skill(sel) + "))",
				"referenceValue": "min(flatten(" + skill(sel) + "))", "maxDistance": rapid.IntRange(0, 20).Draw(t, name+"Max")}
			if rapid.Bool().Draw(t, name+"Swap") {
				r["measurements"], r["referenceValue"] = r["referenceValue"], r["measurements"]
			}
		case 1: // each selected team's average near the match's
			r = map[string]any{"type": "distance", "measurements": "avg(" + skill(sel) + ")",
				"referenceValue": "avg(flatten(" + skill("*") + "))", "maxDistance": rapid.IntRange(0, 15).Draw(t, name+"Max")}
		case 2: // a floor on the selected players' skill
			r = map[string]any{"type": "comparison", "measurements": "flatten(" + skill(sel) + ")",
				"referenceValue": rapid.IntRange(0, 20).Draw(t, name+"Floor"), "operation": ">="}
		case 3: // two teams of equal size (teams of one copy: a count of copies is a list)
			var single []rephraseTeam
			for _, tm := range g.teams {
				if tm.qty == 1 {
					single = append(single, tm)
				}
			}
			if len(single) == 0 {
				first := g.teams[0]
				first.name += "_1"
				single = []rephraseTeam{first}
			}
			a := rapid.SampledFrom(single).Draw(t, name+"A")
			var sizeable []rephraseTeam // teams that can hold as many players as a
			for _, tm := range single {
				if max(tm.min, a.min) <= min(tm.max, a.max) {
					sizeable = append(sizeable, tm)
				}
			}
			b := rapid.SampledFrom(sizeable).Draw(t, name+"B")
			r = map[string]any{"type": "comparison", "measurements": "count(teams[" + a.name + "].players)",
				"referenceValue": "count(teams[" + b.name + "].players)", "operation": "="}
		case 4: // at most, or at least, a few medics among the selected players
			r = map[string]any{"type": "collection", "operation": "contains",
				"measurements": "flatten(teams[" + sel + "].players.attributes[roles])", "referenceValue": "medic"}
			bound := rapid.SampledFrom([]string{"maxCount", "minCount"}).Draw(t, name+"Bound")
			r[bound] = rapid.IntRange(0, 2).Draw(t, name+"Medics")
		case 5: // the selected players all from one region
			r = map[string]any{"type": "comparison", "operation": "=",
				"measurements": "flatten(teams[" + sel + "].players.attributes[region])"}
		}
		r["name"] = name
		if mx, ok := r["maxDistance"].(int); ok {
			if rapid.Bool().Draw(t, name+"Expands") {
				g.expansions = append(g.expansions, map[string]any{"target": "rules[" + name + "].maxDistance",
					"steps": []any{map[string]any{"waitTimeSeconds": rapid.IntRange(5, 40).Draw(t, name+"Wait"), "value": mx + rapid.IntRange(0, 20).Draw(t, name+"Wider")}}})
			}
			if rapid.IntRange(0, 3).Draw(t, name+"HasMin") == 0 {
				r["minDistance"] = rapid.IntRange(0, min(5, mx)).Draw(t, name+"Min")
			}
		}
		if r["type"] != "collection" && rapid.IntRange(0, 2).Draw(t, name+"HasAgg") == 0 {
			r["partyAggregation"] = rapid.SampledFrom([]string{"avg", "min", "max"}).Draw(t, name+"Agg")
		}
		g.rules = append(g.rules, r)
	}
	if rapid.IntRange(0, 3).Draw(t, "regionBatch") == 0 {
		g.standalone = append(g.standalone, map[string]any{"name": "Region", "type": "batchDistance", "batchAttribute": "region"})
	}
	if rapid.Bool().Draw(t, "batch") {
		batch := map[string]any{"name": "Batch", "type": "batchDistance", "batchAttribute": "skill",
			"maxDistance": rapid.IntRange(0, 20).Draw(t, "batchMax")}
		if rapid.IntRange(0, 2).Draw(t, "batchHasAgg") == 0 {
			batch["partyAggregation"] = rapid.SampledFrom([]string{"avg", "min", "max"}).Draw(t, "batchAgg")
		}
		g.standalone = append(g.standalone, batch)
	}
	if kind := rapid.IntRange(0, 3).Draw(t, "sort"); kind < 2 {
		g.standalone = append(g.standalone, map[string]any{"name": "Order", "type": []string{"absoluteSort", "distanceSort"}[kind],
			"sortAttribute": "skill", "sortDirection": rapid.SampledFrom([]string{"ascending", "descending"}).Draw(t, "direction")})
	}
	if rapid.Bool().Draw(t, "sorted") {
		g.algorithm["batchingPreference"], g.algorithm["sortByAttributes"] = "sorted", []string{"skill"}
	}
	g.algorithm["expansionAgeSelection"] = rapid.SampledFrom([]string{"newest", "oldest"}).Draw(t, "age")
	if rapid.IntRange(0, 3).Draw(t, "latency") == 0 {
		g.standalone = append(g.standalone, map[string]any{"name": "Ping", "type": "latency", "maxLatency": rapid.IntRange(30, 150).Draw(t, "maxLat")})
	}
	return g
}

// body renders the rule set; compound wraps every rule in one and(...),
// reversed lists the teams last first (rules name teams, so their order
// changes nothing a rule says).
func (g rephraseRules) body(compound, reversed bool) []byte {
	teams := []any{}
	for _, tm := range g.teams {
		teams = append(teams, map[string]any{"name": tm.name, "minPlayers": tm.min, "maxPlayers": tm.max, "quantity": tm.qty})
	}
	if reversed {
		slices.Reverse(teams)
	}
	rules := append(append([]map[string]any(nil), g.standalone...), g.rules...)
	if compound {
		var names []string
		for _, r := range g.rules {
			names = append(names, r["name"].(string))
		}
		if len(names) == 1 { // and takes two or more
			names = append(names, names[0])
		}
		rules = append(rules, map[string]any{"name": "All", "type": "compound", "statement": "and(" + strings.Join(names, ", ") + ")"})
	}
	b, _ := json.Marshal(map[string]any{"ruleLanguageVersion": "1.0", "teams": teams, "rules": rules, "expansions": g.expansions, "algorithm": g.algorithm,
		"playerAttributes": []any{
			map[string]any{"name": "skill", "type": "number", "default": 0},
			map[string]any{"name": "roles", "type": "string_list", "default": []string{}},
			map[string]any{"name": "region", "type": "string", "default": "eu"},
		}})
	return b
}

// batchAsSpread returns the rule set with its batchDistance on skill
// written as the distance rule it amounts to (the spread of the tickets'
// values; party aggregation gives each player its ticket's value), which a
// compound may reference; ok is false when there is none.
func (g rephraseRules) batchAsSpread() (out rephraseRules, ok bool) {
	out = g
	out.standalone, out.rules = nil, slices.Clone(g.rules)
	for _, r := range g.standalone {
		if r["name"] != "Batch" {
			out.standalone = append(out.standalone, r)
			continue
		}
		ok = true
		spread := map[string]any{"name": "Batch", "type": "distance", "maxDistance": r["maxDistance"],
			"measurements":   "max(flatten(teams[*].players.attributes[skill]))",
			"referenceValue": "min(flatten(teams[*].players.attributes[skill]))"}
		if agg, has := r["partyAggregation"]; has {
			spread["partyAggregation"] = agg
		}
		out.rules = append(out.rules, spread)
	}
	return out, ok
}

// shifted returns the rule set with its skill floors moved up by d.
func (g rephraseRules) shifted(d float64) rephraseRules {
	out := g
	out.rules = nil
	for _, r := range g.rules {
		if floor, ok := r["referenceValue"].(int); ok && r["type"] == "comparison" {
			r = maps.Clone(r)
			r["referenceValue"] = float64(floor) + d
		}
		out.rules = append(out.rules, r)
	}
	return out
}

// shiftSkills returns the tickets with every player's skill moved up by d.
func shiftSkills(tickets []gTicket, d float64) []gTicket {
	out := make([]gTicket, len(tickets))
	for i, tk := range tickets {
		out[i] = tk
		out[i].players = slices.Clone(tk.players)
		for j := range out[i].players {
			out[i].players[j].skill += d
		}
	}
	return out
}

// cycle runs one cycle over tickets with the options given.
func cycle(t *rapid.T, body []byte, opt flexmatch.Options, tickets []gTicket) []flexmatch.Match {
	ms, _ := cycleExact(t, body, opt, tickets)
	return ms
}

// cycleExact is cycle that also reports whether the exact search gave up
// over its budget, leaving a partition to the greedy search.
func cycleExact(t *rapid.T, body []byte, opt flexmatch.Options, tickets []gTicket) ([]flexmatch.Match, bool) {
	rs, err := flexmatch.Parse(body)
	if err != nil {
		t.Fatalf("the grammar drew a rule set Parse refuses: %v\n%s", err, body)
	}
	e := flexmatch.NewEngine(rs, opt)
	for _, tk := range tickets {
		if err := e.Add(tk.ticket()); err != nil {
			t.Fatal(err)
		}
	}
	ms := e.Cycle(epoch.Add(30 * time.Second))
	return ms, e.ExactSearchGaveUp()
}

func playersOf(m flexmatch.Match) int {
	n := 0
	for _, team := range m.Teams {
		n += len(team.PlayerIDs)
	}
	return n
}

// placed runs one cycle over tickets and counts the players and matches.
// Only the exact search's answers compare: a case where it gave up over
// its budget, and the greedy search formed the matches, is skipped.
func placed(t *rapid.T, body []byte, tickets []gTicket) (players, matches int, got []string) {
	ms, gaveUp := cycleExact(t, body, flexmatch.Options{}, tickets)
	if gaveUp {
		t.Skip("the exact search went over its budget")
	}
	for _, m := range ms {
		players += playersOf(m)
		got = append(got, fmt.Sprint(m.TicketIDs))
	}
	return players, len(got), got
}

func TestPropertyShortcutsMeanWhatTheRulesSay(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := drawRephraseRules(t)
		tickets := drawTickets(t, 8, 3)
		p, m, got := placed(t, g.body(false, false), tickets)
		wp, wm, want := placed(t, g.body(true, false), tickets)
		if p != wp || m != wm {
			t.Fatalf("rules alone placed %d players in %d matches %v; referenced by a compound, %d in %d %v\n%s",
				p, m, got, wp, wm, want, g.body(false, false))
		}
		rp, rm, rgot := placed(t, g.body(false, true), tickets)
		if p != rp || m != rm {
			t.Fatalf("teams in order placed %d players in %d matches %v; teams listed last first, %d in %d %v\n%s",
				p, m, got, rp, rm, rgot, g.body(false, false))
		}
		backwards := slices.Clone(tickets)
		slices.Reverse(backwards)
		if op, om, ogot := placed(t, g.body(false, false), backwards); p != op || m != om {
			t.Fatalf("placed %d players in %d matches %v; with the tickets added last first, %d in %d %v\n%s",
				p, m, got, op, om, ogot, g.body(false, false))
		}
		if spread, ok := g.batchAsSpread(); ok {
			bp, bm, bgot := placed(t, spread.body(true, false), tickets)
			if p != bp || m != bm {
				t.Fatalf("placed %d players in %d matches %v; with batchDistance written as a spread rule, %d in %d %v\n%s",
					p, m, got, bp, bm, bgot, g.body(false, false))
			}
		}
		// Every rule of the grammar reads skills through differences, but
		// for the floor, which moves with them: moving every skill moves
		// nothing a rule says.
		shift := float64(rapid.IntRange(1, 1000).Draw(t, "shift"))
		sp, sm, sgot := placed(t, g.shifted(shift).body(false, false), shiftSkills(tickets, shift))
		if p != sp || m != sm {
			t.Fatalf("placed %d players in %d matches %v; with every skill %v higher, %d in %d %v\n%s",
				p, m, got, shift, sp, sm, sgot, g.body(false, false))
		}
	})
}

// TestPropertyGreedyMatchesAreValid: the greedy search, which builds each
// match ticket by ticket and judges some rules on partial matches, forms
// only matches the exact search (which judges every rule on complete team
// assignments) also forms from the same tickets, and never places more
// players than the exact search can.
func TestPropertyGreedyMatchesAreValid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := drawRephraseRules(t)
		body := g.body(false, false)
		tickets := drawTickets(t, 16, 3)
		byID := map[string]gTicket{}
		for _, tk := range tickets {
			byID[tk.id] = tk
		}
		greedy := 0
		for _, m := range cycle(t, body, flexmatch.Options{ExactSearchTickets: -1}, tickets) {
			greedy += playersOf(m)
			var own []gTicket
			for _, id := range m.TicketIDs {
				own = append(own, byID[id])
			}
			again, gaveUp := cycleExact(t, body, flexmatch.Options{}, own)
			if gaveUp {
				t.Skip("the exact search went over its budget")
			}
			if len(again) != 1 || playersOf(again[0]) != playersOf(m) {
				t.Fatalf("the greedy search formed %v; from those tickets alone the exact search forms %v\n%s", m, again, body)
			}
		}
		if len(tickets) <= 12 {
			if exact, _, got := placed(t, body, tickets); greedy > exact {
				t.Fatalf("the greedy search placed %d players, more than the exact search's %d %v\n%s", greedy, exact, got, body)
			}
		}
	})
}

// TestPropertyBackfillsAreValid: what Backfill adds to a running match,
// with the players already in it, is a match the rules accept as a whole.
func TestPropertyBackfillsAreValid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := drawRephraseRules(t)
		body := g.body(false, false)
		rs, err := flexmatch.Parse(body)
		if err != nil {
			t.Fatalf("the grammar drew a rule set Parse refuses: %v\n%s", err, body)
		}
		// The running match: a few players, each on a team copy with room.
		req := flexmatch.Ticket{ID: "running", StartTime: epoch.Add(time.Duration(rapid.IntRange(0, 30).Draw(t, "runningSince")) * time.Second)}
		var slots []string
		room := map[string]int{}
		for _, tm := range g.teams {
			for i := range tm.qty {
				name := tm.name
				if tm.qty > 1 {
					name = fmt.Sprintf("%s_%d", tm.name, i+1)
				}
				slots, room[name] = append(slots, name), tm.max
			}
		}
		for i := range rapid.IntRange(1, 4).Draw(t, "inGame") {
			team := rapid.SampledFrom(slots).Draw(t, "inGameTeam")
			if room[team] == 0 {
				continue
			}
			room[team]--
			roles := []string{}
			if rapid.Bool().Draw(t, "inGameMedic") {
				roles = append(roles, "medic")
			}
			req.Players = append(req.Players, flexmatch.Player{ID: fmt.Sprint("G", i), Team: team,
				LatencyMs: map[string]int{"loc-a": rapid.IntRange(20, 200).Draw(t, "inGameLat")},
				Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(float64(rapid.IntRange(0, 40).Draw(t, "inGameSkill"))),
					"roles": flexmatch.StringList(roles...)}})
		}
		pool := drawTickets(t, 10, 3)
		e := flexmatch.NewEngine(rs, flexmatch.Options{})
		byID := map[string]flexmatch.Ticket{}
		for _, tk := range pool {
			ft := tk.ticket()
			byID[ft.ID] = ft
			if err := e.Add(ft); err != nil {
				t.Fatal(err)
			}
		}
		now := epoch.Add(30 * time.Second)
		m, ok, err := e.Backfill(req, now)
		if err != nil || !ok {
			return
		}
		var added []flexmatch.Ticket
		for _, id := range m.TicketIDs {
			added = append(added, byID[id])
		}
		if why := flexmatch.CheckRoster(rs, req, added, m.Teams, now); why != "" {
			t.Fatalf("Backfill formed %v, which the rules refuse: %s\n%s", m, why, body)
		}
	})
}

// CheckRoster, which the backfill property trusts, refuses what it should.
func TestCheckRosterJudgesTheWholeMatch(t *testing.T) {
	rs := closePairs(t, 5, 30, 10)
	team := func(ids ...string) []flexmatch.MatchTeam { return []flexmatch.MatchTeam{{Name: "a", PlayerIDs: ids}} }
	near, far := solo("near", 0, 102, nil), solo("far", 0, 200, nil)
	running := flexmatch.Ticket{ID: "running", StartTime: at(0), Players: []flexmatch.Player{{ID: "in", Team: "a",
		Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(100)}}}}
	for _, tc := range []struct {
		name    string
		tickets []flexmatch.Ticket
		roster  []flexmatch.MatchTeam
		valid   bool
	}{
		{"close enough", []flexmatch.Ticket{near}, team("in", "near"), true},
		{"too far apart", []flexmatch.Ticket{far}, team("in", "far"), false},
		{"a player missing from the roster", []flexmatch.Ticket{near}, team("in"), false},
		{"a player of no ticket", []flexmatch.Ticket{near}, team("in", "near", "ghost"), false},
	} {
		why := flexmatch.CheckRoster(rs, running, tc.tickets, tc.roster, at(1))
		if (why == "") != tc.valid {
			t.Errorf("%s: CheckRoster said %q, want valid=%v", tc.name, why, tc.valid)
		}
	}
}
