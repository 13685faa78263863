package loadtest

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// FlowReport is what a flow run measured. Latencies are in milliseconds.
type FlowReport struct {
	Endpoint      string  `json:"endpoint"`
	Configuration string  `json:"configuration"`
	OfferedRate   float64 `json:"offeredPlayersPerSecond"`
	// WindowSeconds is how long bots were started; ElapsedSeconds the
	// whole run, until the last bot finished.
	WindowSeconds  float64 `json:"windowSeconds"`
	ElapsedSeconds float64 `json:"elapsedSeconds"`
	Started        int     `json:"started"`
	// Skipped bots were due while MaxInFlight bots walked.
	Skipped   int `json:"skipped,omitempty"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	// SustainedRate is bots that completed the whole flow per second,
	// counted over the start window after its first second (the ramp).
	SustainedRate float64 `json:"sustainedPlayersPerSecond"`
	// Phases are each phase's latency over the bots that got through it.
	Phases []Latency `json:"phases"`
	// EndToEnd is from asking for a match (StartMatchmaking) to being
	// validated by the game server; Whole from sign-in to validated.
	EndToEnd Latency `json:"endToEnd"`
	Whole    Latency `json:"whole"`
	// Failures counts failed bots by "phase: kind"; FirstErrors quotes a
	// few of them.
	Failures    map[string]int `json:"failures"`
	FirstErrors []string       `json:"firstErrors,omitempty"`
	// SimulatedServers is what the game servers simulated for the run
	// did (SimHost.Report), when there were any.
	SimulatedServers *SimReport `json:"simulatedServers,omitempty"`
}

// Latency is a phase's count and percentiles, in milliseconds.
type Latency struct {
	Name  string  `json:"name,omitempty"`
	Count int     `json:"count"`
	P50   float64 `json:"p50Ms"`
	P90   float64 `json:"p90Ms"`
	P99   float64 `json:"p99Ms"`
	Max   float64 `json:"maxMs"`
}

func latencyOf(name string, d []time.Duration) Latency {
	l := Latency{Name: name, Count: len(d)}
	if len(d) == 0 {
		return l
	}
	slices.Sort(d)
	at := func(p float64) float64 {
		return ms(d[min(len(d)-1, int(p*float64(len(d))))])
	}
	l.P50, l.P90, l.P99, l.Max = at(0.50), at(0.90), at(0.99), ms(d[len(d)-1])
	return l
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// recorder gathers the bots' outcomes.
type recorder struct {
	start time.Time
	mu    sync.Mutex
	phase map[string][]time.Duration
	e2e   []time.Duration
	whole []time.Duration
	// doneAt is when each completed bot was validated, since start.
	doneAt                   []time.Duration
	nStarted, nDone, nFailed int
	nSkipped                 int
	failures                 map[string]int
	firstErrs                []string
}

func newRecorder(start time.Time) *recorder {
	return &recorder{start: start, phase: map[string][]time.Duration{}, failures: map[string]int{}}
}

func (r *recorder) started() {
	r.mu.Lock()
	r.nStarted++
	r.mu.Unlock()
}

func (r *recorder) skipped() {
	r.mu.Lock()
	r.nSkipped++
	r.mu.Unlock()
}

func (r *recorder) failed(phase, kind string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nFailed++
	r.failures[phase+": "+kind]++
	if len(r.firstErrs) < 5 {
		r.firstErrs = append(r.firstErrs, phase+": "+err.Error())
	}
}

// phaseDone records a phase a bot got through.
func (r *recorder) phaseDone(name string, d time.Duration) {
	r.mu.Lock()
	r.phase[name] = append(r.phase[name], d)
	r.mu.Unlock()
}

// completed records a bot validated at at.
func (r *recorder) completed(e2e, whole time.Duration, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nDone++
	r.e2e = append(r.e2e, e2e)
	r.whole = append(r.whole, whole)
	r.doneAt = append(r.doneAt, at.Sub(r.start))
}

func (r *recorder) progress() Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Progress{Elapsed: time.Since(r.start), Started: r.nStarted, Completed: r.nDone, Failed: r.nFailed,
		InFlight: r.nStarted - r.nDone - r.nFailed}
}

// report calls f about once a second until the returned stop is called,
// which calls it a last time.
func (r *recorder) report(ctx context.Context, f func(Progress)) (stop func()) {
	if f == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				f(r.progress())
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		f(r.progress())
	}
}

// finish makes the report; window is how long bots were started.
func (r *recorder) finish(cfg FlowConfig, window time.Duration) *FlowReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &FlowReport{Endpoint: cfg.Endpoint, Configuration: cfg.Configuration, OfferedRate: cfg.Rate,
		WindowSeconds: window.Seconds(), ElapsedSeconds: time.Since(r.start).Seconds(),
		Started: r.nStarted, Skipped: r.nSkipped, Completed: r.nDone, Failed: r.nFailed,
		EndToEnd: latencyOf("", r.e2e), Whole: latencyOf("", r.whole),
		Failures: maps.Clone(r.failures), FirstErrors: slices.Clone(r.firstErrs)}
	for _, p := range Phases {
		rep.Phases = append(rep.Phases, latencyOf(p, r.phase[p]))
	}
	ramp := min(time.Second, window/5)
	n := 0
	for _, at := range r.doneAt {
		if at > ramp && at <= window {
			n++
		}
	}
	if span := window - ramp; span > 0 {
		rep.SustainedRate = float64(n) / span.Seconds()
	}
	return rep
}

// Print writes the report as a table.
func (rep *FlowReport) Print(w io.Writer) {
	fmt.Fprintf(w, "whole flow on %s in %s: %d bots started at %.0f/s for %.1fs; %d completed, %d failed (%.1fs in all)\n",
		rep.Endpoint, rep.Configuration, rep.Started, rep.OfferedRate, rep.WindowSeconds, rep.Completed, rep.Failed, rep.ElapsedSeconds)
	if rep.Skipped > 0 {
		fmt.Fprintf(w, "skipped: %d bots due while the most allowed in flight walked\n", rep.Skipped)
	}
	fmt.Fprintf(w, "sustained: %.1f players/s through the whole flow\n", rep.SustainedRate)
	fmt.Fprintf(w, "%-22s %8s %9s %9s %9s %9s\n", "phase", "count", "p50 ms", "p90 ms", "p99 ms", "max ms")
	row := func(name string, l Latency) {
		fmt.Fprintf(w, "%-22s %8d %9.1f %9.1f %9.1f %9.1f\n", name, l.Count, l.P50, l.P90, l.P99, l.Max)
	}
	for _, l := range rep.Phases {
		row(l.Name, l)
	}
	row("end to end (ticket→ok)", rep.EndToEnd)
	row("whole (sign-in→ok)", rep.Whole)
	if len(rep.Failures) == 0 {
		fmt.Fprintln(w, "failures: none")
		return
	}
	fmt.Fprintln(w, "failures:")
	for _, k := range slices.Sorted(maps.Keys(rep.Failures)) {
		fmt.Fprintf(w, "  %6d  %s\n", rep.Failures[k], k)
	}
	for _, e := range rep.FirstErrors {
		fmt.Fprintf(w, "  e.g. %s\n", e)
	}
}

// Line renders a progress snapshot as one line for a terminal.
func (p Progress) Line() string {
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Completed) / s
	}
	return fmt.Sprintf("%6.1fs  started %d  in flight %d  completed %d (%.0f/s)  failed %d",
		p.Elapsed.Seconds(), p.Started, p.InFlight, p.Completed, rate, p.Failed)
}
