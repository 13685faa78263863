package rulesetcmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/cputime"
)

// SimulateHelp summarises the simulate verb.
const SimulateHelp = "run a rule set against a synthetic population in simulated time and report match quality"

const simulateUsage = `Usage: muster ruleset simulate FILE [--players N] [--rate R] [--duration D]
       [--population FILE] [--attr NAME=KIND:...] [--location NAME=MEAN:SD[:MISSING]]
       [--party SIZE:WEIGHT,...] [--spread ATTR] [--timeout D] [--cycle D] [--same-start]
       [--seed S] [--json]

Generates tickets at R tickets per simulated second until N players have
arrived or D has passed, runs the real matchmaking engine once per --cycle,
and reports matches, wait times, the spread of an attribute within matches,
match latency, expansion steps used, the rules that blocked tickets most and
the engine's CPU time per ticket. The same --seed gives the same report.
--same-start gives every ticket a pass receives that pass's time as its start
time, so the tickets of one pass are of equal age (as when a queue hands over
its tickets in batches); waits then count from that pass.

Attribute kinds: normal:MEAN:SD, uniform:MIN:MAX, choice:a,b,c (string or
one-element string_list), subset:P:a,b,c (string_list). Number attributes
without a distribution draw from normal:1000:200; others use the rule set's
default. A rule set with a latency rule and no --location gets four
locations loc-1..loc-4 at 80±40 ms.`

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// simReport is what simulate prints (as JSON with --json).
type simReport struct {
	Seed              uint64         `json:"seed"`
	Tickets           int            `json:"tickets"`
	Players           int            `json:"players"`
	Matches           int            `json:"matches"`
	PlayersMatched    int            `json:"playersMatched"`
	UnmatchedAtEnd    int            `json:"unmatchedAtEnd"`
	TimedOut          int            `json:"timedOut"`
	WaitP50           float64        `json:"waitP50Seconds"`
	WaitP90           float64        `json:"waitP90Seconds"`
	WaitP99           float64        `json:"waitP99Seconds"`
	WaitMax           float64        `json:"waitMaxSeconds"`
	SpreadAttribute   string         `json:"spreadAttribute,omitempty"`
	SpreadMean        float64        `json:"spreadMean"`
	SpreadWorst       float64        `json:"spreadWorst"`
	LatencyAvgMs      float64        `json:"latencyAvgMs"`
	LatencyWorstMs    int            `json:"latencyWorstMs"`
	ExpansionSteps    map[string]int `json:"expansionSteps"`
	BlockedBy         []ruleCount    `json:"blockedBy"`
	EngineUsPerTicket float64        `json:"engineMicrosecondsPerTicket"`
	WaitHistogram     []bucket       `json:"waitHistogram"`
}

type ruleCount struct {
	Rule  string `json:"rule"`
	Count int    `json:"count"`
}

type bucket struct {
	FromSeconds float64 `json:"fromSeconds"`
	ToSeconds   float64 `json:"toSeconds"`
	Tickets     int     `json:"tickets"`
}

// parseDur reads a Go duration or a number of seconds.
func parseDur(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

// Simulate runs "muster ruleset simulate".
func Simulate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("simulate", simulateUsage, stderr)
	players := fs.Int("players", 1000, "stop generating tickets after this many players")
	rate := fs.Float64("rate", 10, "tickets arriving per simulated second")
	durS := fs.String("duration", "5m", "simulated time to run (Go duration or seconds)")
	popPath := fs.String("population", "", "JSON population file: attributes, locations, partySizes")
	var attrs, locs multiFlag
	fs.Var(&attrs, "attr", "attribute distribution NAME=KIND:... (repeatable)")
	fs.Var(&locs, "location", "location latency NAME=MEAN:SD[:MISSING] (repeatable)")
	party := fs.String("party", "", "party sizes SIZE:WEIGHT,... (default 1:1)")
	spread := fs.String("spread", "", "number attribute whose within-match spread is reported (default: the balanced attribute, else the first number attribute)")
	timeoutS := fs.String("timeout", "10m", "request timeout: tickets waiting longer are dropped")
	cycleS := fs.String("cycle", "1s", "matchmaking pass interval")
	sameStart := fs.Bool("same-start", false, "tickets a pass receives start at that pass's time")
	seed := fs.Uint64("seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	files, err := parseArgs(fs, args)
	if err != nil {
		return usageExit(err)
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "simulate: "+format+"\n", a...)
		return exitUsage
	}
	if len(files) != 1 {
		fs.Usage()
		return usage("name exactly one rule-set FILE")
	}
	dur, err := parseDur(*durS)
	if err != nil || dur <= 0 {
		return usage("--duration %q: want a positive duration", *durS)
	}
	timeout, err := parseDur(*timeoutS)
	if err != nil || timeout <= 0 {
		return usage("--timeout %q: want a positive duration", *timeoutS)
	}
	cycle, err := parseDur(*cycleS)
	if err != nil || cycle <= 0 {
		return usage("--cycle %q: want a positive duration", *cycleS)
	}
	if *players < 1 || *rate <= 0 {
		return usage("--players and --rate must be positive")
	}
	rs, ok := loadRuleSet(files[0], stderr)
	if !ok {
		return exitFailed
	}
	pop, err := buildPopulation(rs, *popPath, attrs, locs, *party)
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			return usage("%v", err)
		}
		fmt.Fprintf(stderr, "%s: %v\n", *popPath, err)
		return exitFailed
	}
	attr, err := spreadAttribute(rs, *spread)
	if err != nil {
		return usage("%v", err)
	}
	sim := &simulation{rs: rs, gen: newGenerator(rs, pop, *seed), rng: rand.New(rand.NewPCG(*seed, 7)),
		maxPlayers: *players, rate: *rate, dur: dur, timeout: timeout, cycle: cycle, spreadAttr: attr, clk: clock.Real{},
		sameStart: *sameStart}
	rep, err := sim.run(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "simulate:", err)
		return exitFailed
	}
	rep.Seed = *seed
	if *asJSON {
		return printJSON(stdout, stderr, "simulate", rep)
	}
	printReport(stdout, rep)
	return exitOK
}

// usageError is a bad flag value: simulate answers it with the usage exit
// status.
type usageError struct{ error }

// buildPopulation reads the --population file, then lets --attr, --location
// and --party override it. A rule set with a latency rule and no locations
// gets four made-up ones, so that its latency rule can pass.
func buildPopulation(rs *flexmatch.RuleSet, popPath string, attrs, locs []string, party string) (population, error) {
	var pop population
	if popPath != "" {
		var err error
		if pop, err = readPopulation(popPath); err != nil {
			return pop, err
		}
	}
	if pop.Attributes == nil {
		pop.Attributes = map[string]attrDist{}
	}
	if pop.Locations == nil {
		pop.Locations = map[string]latDist{}
	}
	for _, a := range attrs {
		name, d, err := parseAttrFlag(a)
		if err != nil {
			return pop, usageError{err}
		}
		pop.Attributes[name] = d
	}
	for _, l := range locs {
		name, d, err := parseLocationFlag(l)
		if err != nil {
			return pop, usageError{err}
		}
		pop.Locations[name] = d
	}
	if party != "" {
		var err error
		if pop.PartySizes, err = parsePartyFlag(party); err != nil {
			return pop, usageError{err}
		}
	}
	if len(pop.Locations) == 0 && rs.HasLatency() {
		for i := 1; i <= 4; i++ {
			pop.Locations[fmt.Sprintf("loc-%d", i)] = latDist{Mean: 80, Stddev: 40}
		}
	}
	return pop, nil
}

// spreadAttribute is the number attribute whose spread within matches is
// reported: the --spread flag, else the rule set's balanced attribute, else
// its first number attribute by name ("" when it has none).
func spreadAttribute(rs *flexmatch.RuleSet, flagValue string) (string, error) {
	attr := flagValue
	if attr == "" {
		attr = rs.BalancedAttribute()
	}
	if attr == "" {
		names := []string{}
		for n, t := range rs.AttributeNames() {
			if t == flexmatch.AttrNumber {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		if len(names) > 0 {
			attr = names[0]
		}
	}
	if t, ok := rs.AttributeNames()[attr]; attr != "" && (!ok || t != flexmatch.AttrNumber) {
		return "", fmt.Errorf("--spread %q: not a number attribute of the rule set", attr)
	}
	return attr, nil
}

type simulation struct {
	rs         *flexmatch.RuleSet
	gen        *generator
	rng        *rand.Rand
	maxPlayers int
	rate       float64
	dur        time.Duration
	timeout    time.Duration
	cycle      time.Duration
	spreadAttr string
	clk        clock.Clock
	sameStart  bool // tickets start at the pass that receives them
}

// cpu returns the process CPU time, or -1 when unknown.
func (s *simulation) cpu() time.Duration {
	if d, ok := cputime.Process(); ok {
		return d
	}
	return -1
}

type simTicket struct {
	t       flexmatch.Ticket
	values  []float64 // spread attribute per player
	waiting bool
}

func (s *simulation) run(ctx context.Context) (simReport, error) {
	var rep simReport
	rep.ExpansionSteps = map[string]int{}
	e := flexmatch.NewEngine(s.rs, flexmatch.Options{})
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tickets := map[string]*simTicket{}
	var queue []*simTicket // arrival order, for timeouts
	var sums matchSums
	var engineTime time.Duration
	next := s.rng.ExpFloat64() / s.rate
	generated := 0
	for now := time.Duration(0); now <= s.dur; now += s.cycle {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		at := epoch.Add(now)
		var batch []flexmatch.Ticket
		for generated < s.maxPlayers && next <= now.Seconds() {
			t := s.gen.ticket(next)
			t.StartTime = epoch.Add(time.Duration(next * float64(time.Second)))
			if s.sameStart {
				t.StartTime = at
			}
			generated += len(t.Players)
			batch = append(batch, t)
			next += s.rng.ExpFloat64() / s.rate
		}
		for len(queue) > 0 && (!queue[0].waiting || at.Sub(queue[0].t.StartTime) >= s.timeout) {
			st := queue[0]
			queue = queue[1:]
			if st.waiting {
				st.waiting = false
				rep.TimedOut += len(st.t.Players)
				_ = e.Remove(st.t.ID)
			}
		}
		start, cpu0 := s.clk.Now(), s.cpu()
		for _, t := range batch {
			if err := e.Add(t); err != nil {
				return rep, err
			}
		}
		matches := e.Cycle(at)
		if cpu1 := s.cpu(); cpu0 >= 0 && cpu1 >= 0 {
			engineTime += cpu1 - cpu0
		} else {
			engineTime += s.clk.Now().Sub(start)
		}
		for _, t := range batch {
			st := &simTicket{t: t, waiting: true}
			for _, p := range t.Players {
				if v, ok := p.Attributes[s.spreadAttr]; ok && v.N != nil {
					st.values = append(st.values, *v.N)
				}
			}
			tickets[t.ID] = st
			queue = append(queue, st)
			rep.Tickets++
			rep.Players += len(t.Players)
		}
		for _, m := range matches {
			sums.add(&rep, m, tickets, at)
		}
	}
	for _, st := range tickets {
		if st.waiting {
			rep.UnmatchedAtEnd += len(st.t.Players)
		}
	}
	sums.summarise(&rep)
	rep.SpreadAttribute = s.spreadAttr
	for rule, n := range e.Stats().Blocked {
		rep.BlockedBy = append(rep.BlockedBy, ruleCount{rule, n})
	}
	slices.SortFunc(rep.BlockedBy, func(a, b ruleCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Rule, b.Rule)
	})
	if rep.Tickets > 0 {
		rep.EngineUsPerTicket = round2(float64(engineTime.Microseconds()) / float64(rep.Tickets))
	}
	return rep, nil
}

// matchSums accumulates what the report says of the matches made.
type matchSums struct {
	waits     []float64 // seconds each matched ticket waited
	spreadSum float64
	latSum    float64
	latN      int
}

// add counts match m, made at at, and takes its tickets out of tickets.
func (ms *matchSums) add(rep *simReport, m flexmatch.Match, tickets map[string]*simTicket, at time.Time) {
	rep.Matches++
	rep.PlayersMatched += m.PlayerCount()
	rep.ExpansionSteps[strconv.Itoa(m.Step)]++
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, id := range m.TicketIDs {
		st := tickets[id]
		st.waiting = false
		ms.waits = append(ms.waits, at.Sub(st.t.StartTime).Seconds())
		for _, v := range st.values {
			lo, hi = min(lo, v), max(hi, v)
		}
		delete(tickets, id)
	}
	if hi >= lo {
		ms.spreadSum += hi - lo
		rep.SpreadWorst = max(rep.SpreadWorst, hi-lo)
	}
	if len(m.Locations) > 0 {
		ms.latSum += m.Locations[0].AvgMs
		ms.latN++
		rep.LatencyWorstMs = max(rep.LatencyWorstMs, m.Locations[0].MaxMs)
	}
}

// summarise puts the means, percentiles and histogram of the matches in rep.
func (ms *matchSums) summarise(rep *simReport) {
	if rep.Matches > 0 {
		rep.SpreadMean = round2(ms.spreadSum / float64(rep.Matches))
	}
	if ms.latN > 0 {
		rep.LatencyAvgMs = round2(ms.latSum / float64(ms.latN))
	}
	waits := ms.waits
	slices.Sort(waits)
	rep.WaitP50, rep.WaitP90, rep.WaitP99 = pct(waits, 50), pct(waits, 90), pct(waits, 99)
	if len(waits) > 0 {
		rep.WaitMax = waits[len(waits)-1]
	}
	rep.WaitHistogram = histogram(waits, 10)
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// pct returns the p-th percentile of sorted values (nearest rank).
func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return round2(sorted[max(i, 0)])
}

func histogram(sorted []float64, n int) []bucket {
	if len(sorted) == 0 {
		return nil
	}
	top := math.Ceil(sorted[len(sorted)-1])
	width := math.Max(1, math.Ceil(top/float64(n)))
	var out []bucket
	for i := 0; float64(i)*width <= top; i++ {
		out = append(out, bucket{FromSeconds: float64(i) * width, ToSeconds: float64(i+1) * width})
	}
	for _, w := range sorted {
		i := min(int(w/width), len(out)-1)
		out[i].Tickets++
	}
	return out
}

func printReport(w io.Writer, r simReport) {
	row := func(k string, v any) { fmt.Fprintf(w, "%-28s %v\n", k, v) }
	row("seed", r.Seed)
	row("tickets (players)", fmt.Sprintf("%d (%d)", r.Tickets, r.Players))
	row("matches", r.Matches)
	row("players matched", r.PlayersMatched)
	row("unmatched at end", r.UnmatchedAtEnd)
	row("timed out", r.TimedOut)
	row("wait p50 / p90 / p99", fmt.Sprintf("%.1f s / %.1f s / %.1f s (max %.1f s)", r.WaitP50, r.WaitP90, r.WaitP99, r.WaitMax))
	if r.SpreadAttribute != "" {
		row("spread of "+r.SpreadAttribute, fmt.Sprintf("mean %.2f, worst %.2f", r.SpreadMean, r.SpreadWorst))
	}
	if r.LatencyWorstMs > 0 {
		row("match latency", fmt.Sprintf("avg %.1f ms, worst %d ms", r.LatencyAvgMs, r.LatencyWorstMs))
	}
	var steps []string
	for k := range r.ExpansionSteps {
		steps = append(steps, k)
	}
	slices.SortFunc(steps, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return cmp.Compare(x, y)
	})
	var parts []string
	for _, k := range steps {
		parts = append(parts, fmt.Sprintf("step %s: %d", k, r.ExpansionSteps[k]))
	}
	row("matches by expansion step", strings.Join(parts, ", "))
	if len(r.BlockedBy) > 0 {
		var bl []string
		for _, b := range r.BlockedBy[:min(3, len(r.BlockedBy))] {
			bl = append(bl, fmt.Sprintf("%s (%d)", b.Rule, b.Count))
		}
		row("rules blocking most", strings.Join(bl, ", "))
	}
	row("engine CPU per ticket", fmt.Sprintf("%.1f µs", r.EngineUsPerTicket))
	if len(r.WaitHistogram) > 0 {
		fmt.Fprintln(w, "\nwait time histogram (tickets matched)")
		top := 0
		for _, b := range r.WaitHistogram {
			top = max(top, b.Tickets)
		}
		for _, b := range r.WaitHistogram {
			bar := strings.Repeat("#", int(math.Round(40*float64(b.Tickets)/float64(max(top, 1)))))
			fmt.Fprintf(w, "  %5.0f–%-5.0f s %6d %s\n", b.FromSeconds, b.ToSeconds, b.Tickets, bar)
		}
	}
}
