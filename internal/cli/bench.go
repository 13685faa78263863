package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/enginebench"
)

const benchEngineUsage = `muster bench engine [--workload 5v5|5v5-latency|ffa100] [--tickets N] [--seed S] [--warmup W] [--heap]

Adds N single-player tickets of equal age (skills Normal(1500, 250),
rounded) to a fresh engine and times one pass. W untimed passes (default
1), each over an engine of its own, run first: the process's first pass
also pays for growing its heap from the operating system, which a
server's matchmaking pool, running for hours, paid long ago; --warmup 0
times that first pass. Workloads: 5v5 (two teams of
5, batchDistance skill <= 10), 5v5-latency (the same plus a 150 ms latency
rule over 4 locations), ffa100 (one team of 100, balanced, batchDistance
skill <= 100). Prints the pass's wall and CPU time, tickets placed and per
second, the count a sort-and-cut over skill places (sort, cut consecutive
runs of one match within the bound, greedily from the lowest; location by
location under the latency rule), and the spread of skill within matches.
--heap also reports the engine's live heap per waiting ticket.`

func runBenchEngine(_ context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("bench engine", flag.ContinueOnError)
	name := fs.String("workload", "5v5", "5v5, 5v5-latency or ffa100")
	n := fs.Int("tickets", 50_000, "tickets in the pool")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same tickets")
	heap := fs.Bool("heap", false, "also measure the live heap per waiting ticket")
	warmup := fs.Int("warmup", 1, "untimed passes before the timed one")
	if ok, code := Parse(fs, env, benchEngineUsage, args); !ok {
		return code
	}
	w, err := enginebench.Lookup(*name)
	if err != nil {
		fmt.Fprintf(env.Stderr, "muster bench engine: --workload: %v\n", err)
		return ExitUsage
	}
	if *n < 1 {
		fmt.Fprintln(env.Stderr, "muster bench engine: --tickets: must be at least 1")
		return ExitUsage
	}
	if *warmup < 0 {
		fmt.Fprintln(env.Stderr, "muster bench engine: --warmup: must not be negative")
		return ExitUsage
	}
	tickets := w.Tickets(*n, *seed, time.Unix(1_800_000_000, 0))
	ref := w.Reference(tickets)
	var first time.Duration
	for i := range *warmup {
		r, err := w.Pass(tickets)
		if err != nil {
			fmt.Fprintf(env.Stderr, "muster bench engine: %v\n", err)
			return 1
		}
		if i == 0 {
			first = r.Elapsed
		}
	}
	r, err := w.Pass(tickets)
	if err != nil {
		fmt.Fprintf(env.Stderr, "muster bench engine: %v\n", err)
		return 1
	}
	out := env.Stdout
	fmt.Fprintf(out, "workload                 %s, %d tickets, seed %d\n", w.Name, r.Tickets, *seed)
	if *warmup > 0 {
		fmt.Fprintf(out, "warm-up                  %d untimed pass(es), the process's first %.1f ms wall\n", *warmup, float64(first.Microseconds())/1000)
	}
	fmt.Fprintf(out, "pass                     %.1f ms wall", float64(r.Elapsed.Microseconds())/1000)
	if r.CPU > 0 {
		fmt.Fprintf(out, ", %.1f ms CPU", float64(r.CPU.Microseconds())/1000)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "tickets placed           %d in %d matches (%.0f/s wall", r.Placed, r.Matches, perSecond(r.Placed, r.Elapsed))
	if r.CPU > 0 {
		fmt.Fprintf(out, ", %.0f/s CPU", perSecond(r.Placed, r.CPU))
	}
	fmt.Fprintln(out, ")")
	fmt.Fprintf(out, "sort-and-cut reference   %d (engine %+d)\n", ref, r.Placed-ref)
	fmt.Fprintf(out, "spread of skill          mean %.2f, worst %.0f (bound %.0f)\n", r.SpreadMean, r.SpreadMax, w.MaxDistance)
	if *heap {
		b, err := w.HeapPerTicket(*n, *seed)
		if err != nil {
			fmt.Fprintf(env.Stderr, "muster bench engine: %v\n", err)
			return 1
		}
		fmt.Fprintf(out, "live heap per ticket     %.0f B (%d waiting, after a collection)\n", b, *n)
	}
	return 0
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
