package loadtest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result summarises a run.
type Result struct {
	Requests  int64
	Errors    int64
	Elapsed   time.Duration
	P50, P99  time.Duration
	Max       time.Duration
	FirstErrs []string
}

// PerSecond is the successful request rate.
func (r Result) PerSecond() float64 {
	return float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
}

// Print writes a one-paragraph report.
func (r Result) Print(w io.Writer, name string, concurrency int) {
	fmt.Fprintf(w, "%s: %d requests (%d errors) in %.2fs at concurrency %d: %.0f ok/s, p50 %s, p99 %s, max %s\n",
		name, r.Requests, r.Errors, r.Elapsed.Seconds(), concurrency, r.PerSecond(), r.P50, r.P99, r.Max)
	for _, e := range r.FirstErrs {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}

// Run keeps concurrency calls of do in flight until duration passes or ctx
// ends. do gets the worker number and a per-worker sequence number, so
// writes can make unique names. Latencies are sampled from every call.
func Run(ctx context.Context, concurrency int, duration time.Duration, do func(ctx context.Context, worker, seq int) error) Result {
	return RunAt(ctx, concurrency, duration, 0, func(ctx context.Context, worker, seq, _ int) error { return do(ctx, worker, seq) })
}

// RunAt is Run with an offered rate: call k (counted over all workers, from
// 0) is due rate-per-second after the start, and its latency is measured
// from when it was due, so time spent waiting for a free worker counts and
// the wait for its slot does not. rate 0 means as fast as possible, as Run.
// do gets the worker number, a per-worker sequence number and k.
func RunAt(ctx context.Context, concurrency int, duration time.Duration, rate int, do func(ctx context.Context, worker, seq, k int) error) Result {
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var (
		total, errs atomic.Int64
		mu          sync.Mutex
		lat         []time.Duration
		firstErrs   []string
		wg          sync.WaitGroup
	)
	start := time.Now()
	var next atomic.Int64
	for w := range concurrency {
		wg.Go(func() {
			local := make([]time.Duration, 0, 4096)
			for seq := 0; ctx.Err() == nil; seq++ {
				k := int(next.Add(1) - 1)
				t0 := time.Now()
				if rate > 0 {
					t0 = start.Add(time.Duration(k) * time.Second / time.Duration(rate))
					if d := time.Until(t0); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
							continue
						}
					}
				}
				err := do(ctx, w, seq, k)
				if ctx.Err() != nil && err != nil {
					break // cut off by the end of the run, not a failure
				}
				local = append(local, time.Since(t0))
				total.Add(1)
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if len(firstErrs) < 5 {
						firstErrs = append(firstErrs, err.Error())
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	r := Result{Requests: total.Load(), Errors: errs.Load(), Elapsed: time.Since(start), FirstErrs: firstErrs}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50 = lat[len(lat)/2]
		r.P99 = lat[len(lat)*99/100]
		r.Max = lat[len(lat)-1]
	}
	return r
}
