//go:build unix

package flexmatch_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/enginebench"
)

const benchFiveOnFive = `{"ruleLanguageVersion":"1.0",
 "playerAttributes":[{"name":"skill","type":"number","default":1500}],
 "teams":[{"name":"red","minPlayers":5,"maxPlayers":5},{"name":"blue","minPlayers":5,"maxPlayers":5}],
 "rules":[{"name":"FairSkill","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","maxDistance":10},
          {"name":"Ping","type":"latency","maxLatency":150}],
 "expansions":[{"target":"rules[FairSkill].maxDistance","steps":[
   {"waitTimeSeconds":10,"value":20},{"waitTimeSeconds":20,"value":35},{"waitTimeSeconds":30,"value":50}]}]}`

const benchBattleRoyale = `{"ruleLanguageVersion":"1.0",
 "playerAttributes":[{"name":"skill","type":"number","default":1500}],
 "algorithm":{"strategy":"balanced","balancedAttribute":"skill","batchingPreference":"largestPopulation"},
 "teams":[{"name":"all","minPlayers":100,"maxPlayers":100}],
 "rules":[{"name":"SkillBand","type":"batchDistance","batchAttribute":"skill","maxDistance":100},
          {"name":"Ping","type":"latency","maxLatency":150}],
 "expansions":[{"target":"rules[SkillBand].maxDistance","steps":[{"waitTimeSeconds":10,"value":200},{"waitTimeSeconds":20,"value":400}]},
               {"target":"teams[all].minPlayers","steps":[{"waitTimeSeconds":30,"value":60}]}]}`

var benchLocations = []string{"us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"}

// ticketRing holds pre-built tickets reused round-robin so that building
// them does not count against the engine.
type ticketRing struct {
	tickets []flexmatch.Ticket
	next    int
}

func newRing(n int, skillWidth float64, seed uint64) *ticketRing {
	rng := rand.New(rand.NewPCG(seed, 1))
	r := &ticketRing{tickets: make([]flexmatch.Ticket, n)}
	for i := range r.tickets {
		lat := map[string]int{}
		for _, l := range benchLocations {
			lat[l] = 20 + rng.IntN(200)
		}
		r.tickets[i] = flexmatch.Ticket{ID: fmt.Sprintf("t%07d", i), Players: []flexmatch.Player{{
			ID:         fmt.Sprintf("p%07d", i),
			Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(float64(rng.IntN(int(skillWidth))))},
			LatencyMs:  lat,
		}}}
	}
	return r
}

func (r *ticketRing) take(start time.Time) flexmatch.Ticket {
	t := r.tickets[r.next%len(r.tickets)]
	r.next++
	t.StartTime = start
	return t
}

// steady runs one engine at perCycle new tickets per one-second cycle,
// dropping tickets older than 60 s, and reports throughput and the 99th
// percentile cycle time.
type steady struct {
	e       *flexmatch.Engine
	ring    *ticketRing
	now     time.Time
	added   []string // arrival order, for timeouts
	start   []time.Time
	head    int
	placed  int
	cycles  []time.Duration
	elapsed time.Duration
	addTime time.Duration
	cpu     time.Duration // process CPU time, robust on a shared machine
}

func newSteady(b testing.TB, body string, ringSize int, width float64) *steady {
	rs := mustParse(b, body)
	return &steady{e: flexmatch.NewEngine(rs, flexmatch.Options{}), ring: newRing(ringSize, width, 42), now: epoch}
}

// expire removes tickets older than 60 s, as a request timeout would.
func (s *steady) expire() {
	for s.head < len(s.added) && s.now.Sub(s.start[s.head]) > 60*time.Second {
		_ = s.e.Remove(s.added[s.head]) // matched tickets are already gone
		s.head++
	}
}

func (s *steady) cycle(b testing.TB, perCycle int, timed bool) {
	s.now = s.now.Add(time.Second)
	s.expire()
	t0, c0 := time.Now(), cpuNow()
	for range perCycle {
		t := s.ring.take(s.now)
		if err := s.e.Add(t); err != nil {
			b.Fatal(err)
		}
		s.added = append(s.added, t.ID)
		s.start = append(s.start, t.StartTime)
	}
	t1 := time.Now()
	ms := s.e.Cycle(s.now)
	d := time.Since(t0)
	if timed {
		s.cpu += cpuNow() - c0
		s.addTime += t1.Sub(t0)
		s.elapsed += d
		s.cycles = append(s.cycles, d)
		for _, m := range ms {
			s.placed += len(m.TicketIDs)
		}
	}
}

func (s *steady) report(b *testing.B) {
	slices.Sort(s.cycles)
	p99 := s.cycles[min(len(s.cycles)-1, len(s.cycles)*99/100)]
	b.ReportMetric(float64(s.placed)/s.elapsed.Seconds(), "tickets/s")
	if s.cpu > 0 {
		b.ReportMetric(float64(s.placed)/s.cpu.Seconds(), "tickets/cpu-s")
	}
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-cycle-ms")
	b.ReportMetric(float64(s.e.Len()), "waiting")
	b.ReportMetric(float64(s.placed)/float64(len(s.cycles)), "placed/cycle")
	b.ReportMetric(float64(s.addTime.Microseconds())/1000/float64(len(s.cycles)), "add-ms/cycle")
}

// BenchmarkFiveOnFive is target (a): two teams of 5, skill spread 10→50,
// latency 150 ms over 4 locations, about 50,000 waiting tickets, 2,000 new
// tickets per cycle. Skills are spread wide enough that the pool settles near
// 50,000 waiting tickets.
func BenchmarkFiveOnFive(b *testing.B) { benchSteady(b, benchFiveOnFive, 100000) }

// BenchmarkBattleRoyale is target (b): a 100-player free-for-all with
// batchDistance on skill and a latency rule.
func BenchmarkBattleRoyale(b *testing.B) { benchSteady(b, benchBattleRoyale, 3000) }

// benchSteady warms a pool up for 60 cycles of 2,000 new tickets, then
// times such cycles.
func benchSteady(b *testing.B, rules string, width float64) {
	s := newSteady(b, rules, 400_000, width)
	for range 60 {
		s.cycle(b, 2000, false)
	}
	for b.Loop() {
		s.cycle(b, 2000, true)
	}
	s.report(b)
}

// BenchmarkMemoryPerTicket is target (c): heap bytes per waiting ticket.
func BenchmarkMemoryPerTicket(b *testing.B) {
	rs := mustParse(b, benchFiveOnFive)
	ring := newRing(50_000, 120_000, 7)
	var perTicket float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		e := flexmatch.NewEngine(rs, flexmatch.Options{})
		for i := range 50_000 {
			if err := e.Add(ring.take(epoch.Add(time.Duration(i) * time.Millisecond))); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perTicket = float64(after.HeapAlloc-before.HeapAlloc) / 50_000
		runtime.KeepAlive(e)
	}
	b.ReportMetric(perTicket, "B/ticket")
}

// BenchmarkHotPath is target (d): allocations per ticket while adding
// tickets and running cycles (b.N counts tickets; a cycle runs every 2,000).
func BenchmarkHotPath(b *testing.B) {
	s := newSteady(b, benchFiveOnFive, 400_000, 100_000)
	for range 60 {
		s.cycle(b, 2000, false)
	}
	s.added = slices.Grow(s.added, 1<<20)
	s.start = slices.Grow(s.start, 1<<20)
	b.ReportAllocs()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	n := 0
	for b.Loop() {
		if n%2000 == 0 {
			s.now = s.now.Add(time.Second)
			s.expire()
			s.e.Cycle(s.now)
		}
		t := s.ring.take(s.now)
		if err := s.e.Add(t); err != nil {
			b.Fatal(err)
		}
		s.added = append(s.added, t.ID)
		s.start = append(s.start, t.StartTime)
		n++
	}
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(n), "allocs/ticket")
}

// cpuNow returns the process's CPU time (all threads, GC included).
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSmallPoolExactSearch is the matchmaking service's common case
// under steady arrivals: a cycle sees a handful of tickets, few enough for
// the exact search. Each op adds 10 duelists (5 close pairs) and cycles.
func BenchmarkSmallPoolExactSearch(b *testing.B) {
	rs, err := flexmatch.Parse([]byte(`{"ruleLanguageVersion":"1.0",
	 "playerAttributes":[{"name":"skill","type":"number"}],
	 "teams":[{"name":"red","minPlayers":1,"maxPlayers":1},{"name":"blue","minPlayers":1,"maxPlayers":1}],
	 "rules":[{"name":"FairSkill","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
	           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","maxDistance":20}]}`))
	if err != nil {
		b.Fatal(err)
	}
	e := flexmatch.NewEngine(rs, flexmatch.Options{})
	now := time.Unix(1_800_000_000, 0)
	tickets := make([]flexmatch.Ticket, 10)
	for i := range tickets {
		id := fmt.Sprint("t", i)
		tickets[i] = flexmatch.Ticket{ID: id, Players: []flexmatch.Player{{ID: id,
			Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(float64(i/2) * 1000)}}}}
	}
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		for _, t := range tickets {
			t.StartTime = now
			if err := e.Add(t); err != nil {
				b.Fatal(err)
			}
		}
		if ms := e.Cycle(now); len(ms) != 5 {
			b.Fatalf("%d matches, want 5", len(ms))
		}
	}
}

// BenchmarkFirstPass is one pass over 50,000 fresh tickets of equal age
// (the workloads of muster bench engine); adding the tickets is not timed.
func BenchmarkFirstPass(b *testing.B) {
	for _, name := range []string{"5v5", "5v5-latency", "ffa100"} {
		b.Run(name, func(b *testing.B) {
			w, err := enginebench.Lookup(name)
			if err != nil {
				b.Fatal(err)
			}
			tickets := w.Tickets(50_000, 1, epoch)
			rs := mustParse(b, w.RuleSet)
			var placed int
			var elapsed, cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				e := flexmatch.NewEngine(rs, flexmatch.Options{})
				for _, t := range tickets {
					if err := e.Add(t); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC() // the collection adding owes is not the pass's
				b.StartTimer()
				t0, c0 := time.Now(), cpuNow()
				for _, m := range e.Cycle(epoch) {
					placed += len(m.TicketIDs)
				}
				elapsed += time.Since(t0)
				cpu += cpuNow() - c0
			}
			b.ReportMetric(float64(placed)/elapsed.Seconds(), "tickets/s")
			b.ReportMetric(float64(placed)/cpu.Seconds(), "tickets/cpu-s")
			b.ReportMetric(float64(placed)/float64(b.N), "placed")
		})
	}
}
