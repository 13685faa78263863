package enginebench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/cputime"
)

// Workload is one fixed matchmaking problem: a rule set with a numeric
// batchDistance rule on skill, and how its tickets are made.
type Workload struct {
	Name        string
	RuleSet     string // FlexMatch rule set JSON
	MatchSize   int    // players per match, every team full
	MaxDistance float64
	// MaxLatency, when positive, is the latency rule's bound; tickets then
	// report a latency to each of Locations.
	MaxLatency int
}

// Locations are the locations tickets report latencies to under a latency
// rule.
var Locations = []string{"us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"}

const skillAttr = `"playerAttributes":[{"name":"skill","type":"number","default":1500}]`

// Workloads lists the workloads by name.
var Workloads = []Workload{
	{Name: "5v5", MatchSize: 10, MaxDistance: 10, RuleSet: `{"ruleLanguageVersion":"1.0",` + skillAttr + `,
 "teams":[{"name":"red","minPlayers":5,"maxPlayers":5},{"name":"blue","minPlayers":5,"maxPlayers":5}],
 "rules":[{"name":"FairSkill","type":"batchDistance","batchAttribute":"skill","maxDistance":10}]}`},
	{Name: "5v5-latency", MatchSize: 10, MaxDistance: 10, MaxLatency: 150, RuleSet: `{"ruleLanguageVersion":"1.0",` + skillAttr + `,
 "teams":[{"name":"red","minPlayers":5,"maxPlayers":5},{"name":"blue","minPlayers":5,"maxPlayers":5}],
 "rules":[{"name":"FairSkill","type":"batchDistance","batchAttribute":"skill","maxDistance":10},
          {"name":"Ping","type":"latency","maxLatency":150}]}`},
	{Name: "ffa100", MatchSize: 100, MaxDistance: 100, RuleSet: `{"ruleLanguageVersion":"1.0",` + skillAttr + `,
 "algorithm":{"strategy":"balanced","balancedAttribute":"skill"},
 "teams":[{"name":"all","minPlayers":100,"maxPlayers":100}],
 "rules":[{"name":"SkillBand","type":"batchDistance","batchAttribute":"skill","maxDistance":100}]}`},
}

// Lookup returns the workload of that name.
func Lookup(name string) (Workload, error) {
	var names []string
	for _, w := range Workloads {
		if w.Name == name {
			return w, nil
		}
		names = append(names, w.Name)
	}
	return Workload{}, fmt.Errorf("unknown workload %q (one of %s)", name, strings.Join(names, ", "))
}

// Tickets makes n single-player tickets that all start at start: skills
// drawn from Normal(1500, 250) and rounded, and under a latency rule a
// latency of 20 to 219 ms to each location. The same seed gives the same
// tickets.
func (w Workload) Tickets(n int, seed uint64, start time.Time) []flexmatch.Ticket {
	out := make([]flexmatch.Ticket, n)
	next := w.generator(seed, start)
	for i := range out {
		out[i] = next(i)
	}
	return out
}

// generator returns a function making ticket i of the seeded sequence;
// it must be called with i = 0, 1, 2, … in turn.
func (w Workload) generator(seed uint64, start time.Time) func(i int) flexmatch.Ticket {
	rng := rand.New(rand.NewPCG(seed, 0x6d7573746572))
	return func(i int) flexmatch.Ticket {
		p := flexmatch.Player{
			ID:         fmt.Sprintf("p%07d", i),
			Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(math.Round(1500 + 250*rng.NormFloat64()))},
		}
		if w.MaxLatency > 0 {
			p.LatencyMs = make(map[string]int, len(Locations))
			for _, l := range Locations {
				p.LatencyMs[l] = 20 + rng.IntN(200)
			}
		}
		return flexmatch.Ticket{ID: fmt.Sprintf("t%07d", i), Players: []flexmatch.Player{p}, StartTime: start}
	}
}

// Reference returns how many of the tickets the sort-and-cut reference
// places; under a latency rule it cuts location by location (most eligible
// tickets first) among the tickets still unplaced that may play there.
func (w Workload) Reference(tickets []flexmatch.Ticket) int {
	values := make([]float64, len(tickets))
	for i, t := range tickets {
		values[i] = *t.Players[0].Attributes["skill"].N
	}
	if w.MaxLatency <= 0 {
		return SortAndCut(values, w.MatchSize, w.MaxDistance)
	}
	eligible := make([][]bool, len(tickets))
	for i, t := range tickets {
		eligible[i] = make([]bool, len(Locations))
		for l, name := range Locations {
			ms, ok := t.Players[0].LatencyMs[name]
			eligible[i][l] = ok && ms <= w.MaxLatency
		}
	}
	return sortAndCutByLocation(values, eligible, len(Locations), w.MatchSize, w.MaxDistance)
}

// Result is one measured pass.
type Result struct {
	Tickets int
	Placed  int // tickets the engine placed
	Matches int
	Elapsed time.Duration
	// CPU is the process's CPU time over the pass, when the system tells.
	CPU time.Duration
	// SpreadMax and SpreadMean are the largest and the mean spread (highest
	// minus lowest skill) of the matches formed.
	SpreadMax, SpreadMean float64
}

// Pass adds the tickets to a fresh engine for the workload's rule set and
// times one Cycle at their start time. Adding them, and the collection
// that adding makes due, are not timed.
func (w Workload) Pass(tickets []flexmatch.Ticket) (Result, error) {
	e, err := w.engine()
	if err != nil {
		return Result{}, err
	}
	skill := make(map[string]float64, len(tickets))
	var now time.Time
	for _, t := range tickets {
		if err := e.Add(t); err != nil {
			return Result{}, fmt.Errorf("workload %s: ticket %s: %w", w.Name, t.ID, err)
		}
		skill[t.ID] = *t.Players[0].Attributes["skill"].N
		now = t.StartTime
	}
	runtime.GC()
	c0, _ := cputime.Process()
	t0 := time.Now()
	ms := e.Cycle(now)
	r := Result{Tickets: len(tickets), Elapsed: time.Since(t0), Matches: len(ms)}
	if c1, ok := cputime.Process(); ok {
		r.CPU = c1 - c0
	}
	sum := 0.0
	for _, m := range ms {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, id := range m.TicketIDs {
			lo, hi = min(lo, skill[id]), max(hi, skill[id])
		}
		r.Placed += len(m.TicketIDs)
		r.SpreadMax = max(r.SpreadMax, hi-lo)
		sum += hi - lo
	}
	if len(ms) > 0 {
		r.SpreadMean = sum / float64(len(ms))
	}
	return r, nil
}

func (w Workload) engine() (*flexmatch.Engine, error) {
	rs, err := flexmatch.Parse([]byte(w.RuleSet))
	if err != nil {
		return nil, fmt.Errorf("workload %s: %w", w.Name, err)
	}
	return flexmatch.NewEngine(rs, flexmatch.Options{}), nil
}

// HeapPerTicket returns the live heap an engine holds per waiting ticket
// with n of the workload's tickets waiting: the live heap after a
// collection (runtime/metrics) with the engine, less the live heap before
// it, over n. Tickets are made one at a time and only the engine keeps
// them, so what it shares with its input (IDs) counts too.
func (w Workload) HeapPerTicket(n int, seed uint64) (float64, error) {
	next := w.generator(seed, time.Unix(1_800_000_000, 0))
	before := liveHeap()
	e, err := w.engine()
	if err != nil {
		return 0, err
	}
	for i := range n {
		if err := e.Add(next(i)); err != nil {
			return 0, fmt.Errorf("workload %s: %w", w.Name, err)
		}
	}
	after := liveHeap()
	runtime.KeepAlive(e)
	return float64(after-before) / float64(n), nil
}

// liveHeap collects and returns the bytes of heap objects it found live.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
