package flexmatch

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Explanation says why a waiting ticket has not been matched yet.
type Explanation struct {
	TicketID string `json:"ticketId"`
	// Age is how long the ticket has waited; its JSON is ageSeconds.
	Age time.Duration `json:"-"`
	// Step is the expansion step reached by the ticket's own age (0 = base
	// values) out of Steps; NextStep is how long until the next one starts
	// (0 when none is left; its JSON is nextStepSeconds).
	Step     int           `json:"step"`
	Steps    int           `json:"steps"`
	NextStep time.Duration `json:"-"`
	// Never is set when the ticket can never be matched, with the reason.
	Never string `json:"never,omitempty"`
	// Matchable is true when a match with the ticket can be formed now: the
	// next cycle will form it.
	Matchable bool `json:"matchable"`
	// Candidates are the potential matches with the ticket that came
	// closest, largest first: one built around the ticket and, when they
	// differ, ones built around its nearest neighbours.
	Candidates []Candidate `json:"candidates,omitempty"`
	// RuleCounts counts rejections per rule name over all candidates.
	RuleCounts map[string]int `json:"ruleCounts,omitempty"`
}

// Candidate is one potential match and why it is not a match.
type Candidate struct {
	TicketIDs []string `json:"ticketIds"`
	// Shortfall says why the candidate is not a match ("team red has 3 of
	// 4 players").
	Shortfall string `json:"shortfall,omitempty"`
	// Rejections lists tickets that would have extended the candidate, with
	// the rule each one broke, nearest first.
	Rejections []Rejection `json:"rejections,omitempty"`
	players    int
}

// Rejection is one candidate ticket refused by a rule.
type Rejection struct {
	TicketID string `json:"ticketId"`
	Rule     string `json:"rule"`
	// Detail reads like "FairSkill: distance 23.5 > maxDistance 20 (step 1
	// of 3; 15 s to the next)".
	Detail string `json:"detail"`
}

// MarshalJSON writes the durations as seconds (ageSeconds,
// nextStepSeconds, to the millisecond), the unit a rule set's expansions
// are written in: a time.Duration would be a bare count of nanoseconds.
func (x Explanation) MarshalJSON() ([]byte, error) {
	type plain Explanation // without this method
	return json.Marshal(struct {
		plain
		AgeSeconds      float64 `json:"ageSeconds"`
		NextStepSeconds float64 `json:"nextStepSeconds"`
	}{plain(x), seconds(x.Age), seconds(x.NextStep)})
}

func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}

// String renders the explanation as a few readable lines.
func (x Explanation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ticket %s: waiting %s", x.TicketID, x.Age.Round(time.Second))
	if x.Steps > 0 {
		fmt.Fprintf(&b, ", expansion step %d of %d", x.Step, x.Steps)
		if x.NextStep > 0 {
			fmt.Fprintf(&b, " (next in %s)", x.NextStep.Round(time.Second))
		}
	}
	b.WriteString("\n")
	switch {
	case x.Never != "":
		fmt.Fprintf(&b, "  never matches: %s\n", x.Never)
		return b.String()
	case x.Matchable && len(x.Candidates) > 0:
		fmt.Fprintf(&b, "  a match is possible now with %s; the next cycle forms it\n", strings.Join(x.Candidates[0].TicketIDs, ", "))
		return b.String()
	}
	for i, c := range x.Candidates {
		fmt.Fprintf(&b, "  candidate %d: %s\n", i+1, strings.Join(c.TicketIDs, ", "))
		if c.Shortfall != "" {
			fmt.Fprintf(&b, "    short of a match: %s\n", c.Shortfall)
		}
		for _, r := range c.Rejections {
			fmt.Fprintf(&b, "    + %s rejected: %s\n", r.TicketID, r.Detail)
		}
	}
	return b.String()
}

const maxRejections = 5

// Explain says why the waiting ticket id is not matched yet, as of now. It
// changes nothing in the pool.
func (e *Engine) Explain(id string, now time.Time) (x Explanation, err error) {
	t, ok := e.tickets[id]
	if !ok {
		return Explanation{}, fmt.Errorf("%w: %s", ErrUnknownTicket, id)
	}
	n := now.UnixNano()
	x = Explanation{TicketID: id, Age: time.Duration(n - t.start), Steps: len(e.rs.waits)}
	age := float64(n-t.start) / 1e9
	x.Step = e.rs.level(age)
	if x.Step < len(e.rs.waits) {
		x.NextStep = time.Duration((e.rs.waits[x.Step] - age) * 1e9)
	}
	if t.never != "" {
		x.Never = t.never
		return x, nil
	}
	if t.part.idx.n <= e.opt.ExactSearchTickets && e.explainExact(t, n, &x) {
		return x, nil
	}
	e.chk.explain = true
	defer func() { e.chk.explain = false }()
	x.RuleCounts = map[string]int{}
	first, ok := e.explainBuild(t, nil, n, x.RuleCounts)
	if ok {
		x.Matchable, x.Candidates = true, []Candidate{first}
		return x, nil
	}
	x.Candidates = append(x.Candidates, first)
	// Also build around the nearest neighbours, with the ticket second.
	e.gather(t, t.key, n)
	neighbours := slices.Clone(e.cands[:min(len(e.cands), explainNeighbours)])
	setKey := func(ids []string) string {
		s := slices.Clone(ids)
		slices.Sort(s)
		return strings.Join(s, ",")
	}
	seen := map[string]bool{setKey(first.TicketIDs): true}
	for _, nb := range neighbours {
		cd, ok := e.explainBuild(nb, t, n, x.RuleCounts)
		if ok {
			x.Matchable, x.Candidates = true, []Candidate{cd}
			return x, nil
		}
		if key := setKey(cd.TicketIDs); !seen[key] && slices.Contains(cd.TicketIDs, t.id) {
			seen[key] = true
			x.Candidates = append(x.Candidates, cd)
		}
	}
	slices.SortStableFunc(x.Candidates, func(a, b Candidate) int { return b.players - a.players })
	return x, nil
}

// explainExact answers for a ticket whose partition the next cycle solves
// exactly, by running that search without forming anything. When the search
// places the ticket, x says with whom. When a valid match with the ticket
// exists but the search's best set of matches leaves it out, x shows that
// match, not matchable. Either way it reports true. It reports false when no
// valid match holds the ticket (the caller then shows the near misses) or
// when the search exceeded its budget (the cycle then builds around anchors
// like the caller does).
func (e *Engine) explainExact(t *wticket, n int64, x *Explanation) bool {
	st, best, ok := e.solveExact(t.part, n)
	if !ok {
		return false
	}
	me := slices.Index(st.ts, t)
	if me < 0 {
		return false
	}
	bit := uint32(1) << me
	for _, set := range best.sets {
		if set&bit != 0 {
			x.Matchable = true
			x.Candidates = []Candidate{{TicketIDs: st.ids(set)}}
			return true
		}
	}
	// The search checked every set of tickets; show the largest valid one
	// holding the ticket (the oldest tickets on a tie).
	var bestSet uint32
	bestPlayers := 0
	for set, assign := range st.feas {
		if assign == nil || set&bit == 0 {
			continue
		}
		players := 0
		for j, tk := range st.ts {
			if set&(1<<j) != 0 {
				players += len(tk.players)
			}
		}
		if players > bestPlayers || players == bestPlayers && set < bestSet {
			bestSet, bestPlayers = set, players
		}
	}
	if bestSet == 0 {
		return false
	}
	x.Candidates = []Candidate{{TicketIDs: st.ids(bestSet), players: bestPlayers,
		Shortfall: fmt.Sprintf("a valid match now, but the next cycle's best set of matches (%d players) uses these tickets otherwise", best.players)}}
	return true
}

// explainNeighbours is how many neighbours Explain also builds around.
const explainNeighbours = 2

// explainBuild builds a potential match around anchor, with second (when
// set) placed right after it, recording why tickets were refused. It
// reports whether the candidate is a match now.
func (e *Engine) explainBuild(anchor, second *wticket, n int64, counts map[string]int) (Candidate, bool) {
	c := &e.c
	c.reset(len(e.rs.slots))
	var cd Candidate
	reject := func(t *wticket) {
		name := e.ruleName(e.chk.fail.rule)
		counts[name]++
		if len(cd.Rejections) < maxRejections {
			c.members = append(c.members, t)
			e.setLevel(n)
			d := e.detail(n)
			c.members = c.members[:len(c.members)-1]
			e.setLevel(n)
			cd.Rejections = append(cd.Rejections, Rejection{TicketID: t.id, Rule: name, Detail: d})
		}
	}
	done := func() Candidate {
		for _, m := range c.members {
			cd.TicketIDs = append(cd.TicketIDs, m.id)
			cd.players += len(m.players)
		}
		return cd
	}
	if !e.place(anchor, n) {
		reject(anchor)
		return done(), false
	}
	if second != nil && !e.place(second, n) {
		reject(second)
		return done(), false
	}
	e.gather(anchor, anchor.key, n)
	for _, ct := range slices.Clone(e.cands) {
		if e.full() {
			break
		}
		if ct != second && !e.place(ct, n) {
			reject(ct)
		}
	}
	cd.Shortfall = e.shortfall(n)
	if cd.Shortfall != "" && e.reassignExplained(n) {
		return done(), true
	}
	if cd.Shortfall != "" && e.chk.fail.text != "" && e.chk.fail.rule >= 0 {
		cd.Shortfall += "; no team split passes: " + e.detail(n)
	}
	if cd.Shortfall == "" {
		if e.chk.check(c, true) {
			return done(), true
		}
		cd.Shortfall = e.detail(n)
	}
	return done(), false
}

func (e *Engine) ruleName(ri int) string {
	if ri < 0 || ri >= len(e.rs.rules) {
		return "teams"
	}
	return e.rs.rules[ri].name
}

// detail formats the checker's last failure with the expansion step of the
// failing rule.
func (e *Engine) detail(now int64) string {
	f := e.chk.fail
	text := f.text
	if f.rule < 0 {
		return text
	}
	// Find the expansion of the failing rule, if any.
	for _, xp := range e.rs.exps {
		if xp.rule != f.rule {
			continue
		}
		ref := e.refStart()
		age := float64(now-ref) / 1e9
		k := 0
		for k < len(xp.steps) && xp.steps[k].wait <= age {
			k++
		}
		text += fmt.Sprintf(" (step %d of %d", k, len(xp.steps))
		if k < len(xp.steps) {
			text += fmt.Sprintf("; %s s to the next", fmtNum(math.Ceil(xp.steps[k].wait-age)))
		}
		text += ")"
		break
	}
	return text
}

func (e *Engine) refStart() int64 {
	c := &e.c
	if len(c.members) == 0 {
		return 0
	}
	ref := c.members[0].start
	for _, t := range c.members[1:] {
		if e.rs.algo.expansionOldest {
			ref = min(ref, t.start)
		} else {
			ref = max(ref, t.start)
		}
	}
	return ref
}

// shortfall says which team is below its effective minimum, or "".
func (e *Engine) shortfall(now int64) string {
	e.setLevel(now)
	var parts []string
	for i, n := range e.c.counts {
		if n < e.slotMin[i] {
			parts = append(parts, fmt.Sprintf("team %s has %d of %d players", e.rs.slots[i].name, n, e.slotMin[i]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	next := ""
	ref := e.refStart()
	age := float64(now-ref) / 1e9
	for _, w := range e.rs.waits {
		if w > age {
			next = fmt.Sprintf(" (the match's expansion clock is at %s s; next step in %s s)", fmtNum(math.Floor(age)), fmtNum(math.Ceil(w-age)))
			break
		}
	}
	return strings.Join(parts, ", ") + next
}

// reassignExplained tries another team split, keeping the last failure.
func (e *Engine) reassignExplained(now int64) bool {
	e.chk.fail = failure{rule: -1}
	return e.reassign(now)
}
