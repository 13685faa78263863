package placement_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/store"
)

// BenchmarkPlacementThroughput starts b.N placements (with 0 or 2 desired
// player sessions each) against b.N warm (idle) processes spread over four locations of two
// fleets, from 64 concurrent callers, and reports how many are fulfilled
// per second, from the first StartGameSessionPlacement to the last
// fulfilment. Run it with a fixed count, e.g. -benchtime=5000x.
func BenchmarkPlacementThroughput(b *testing.B) {
	for _, players := range []int{0, 2} {
		b.Run(fmt.Sprintf("players=%d", players), func(b *testing.B) { benchPlacements(b, false, players) })
	}
}

// BenchmarkPlacerFulfilment records b.N PENDING placements while the
// placer is stopped, then starts it and reports how many it fulfils per
// second against b.N warm processes: the placer alone, without the cost of
// accepting the requests.
func BenchmarkPlacerFulfilment(b *testing.B) {
	for _, players := range []int{0, 2} {
		b.Run(fmt.Sprintf("players=%d", players), func(b *testing.B) { benchPlacements(b, true, players) })
	}
}

// benchPlacements runs b.N placements with the given number of desired
// player sessions each.
func benchPlacements(b *testing.B, placerOnly bool, players int) {
	var fulfilled atomic.Int64
	done := make(chan struct{})
	listen := countListener{n: &fulfilled, total: int64(b.N), done: done}
	e := newEnv(b, envOptions{realClock: true, workers: benchWorkers, listeners: []placement.Listener{listen}})
	f1 := e.fleet("0.5", "custom-a", "custom-b")
	f2 := e.fleet("0.2", "custom-c", "custom-d")
	locs := [][2]string{{f1, "custom-a"}, {f1, "custom-b"}, {f2, "custom-c"}, {f2, "custom-d"}}
	now := time.Now()
	err := e.db.Update(context.Background(), func(w store.Writer) error {
		for i := range b.N {
			l := locs[i%len(locs)]
			p := fleet.Process{ID: fmt.Sprintf("proc-%d", i), FleetID: l[0], ComputeName: "c-" + l[1], Location: l[1], Status: fleet.ProcessActive,
				Healthy: true, Port: int32(1000 + i%50000), IPAddress: "10.0.0.1", CreatedAt: now, ReadyAt: now}
			if _, err := fleet.PutProcess(context.Background(), w, p, 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "bench", Destinations: []gamelift.GameSessionQueueDestination{
		{DestinationArn: e.fleetArn(f1)}, {DestinationArn: e.fleetArn(f2)}}})
	if placerOnly {
		e.halt()
	}
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				in := &gamelift.StartGameSessionPlacementInput{PlacementId: fmt.Sprintf("b%d", i),
					GameSessionQueueName: q, MaximumPlayerSessionCount: ptr(int32(4)),
					PlayerLatencies: []gamelift.PlayerLatency{lat("x", "custom-a", 30), lat("x", "custom-b", 40), lat("x", "custom-c", 50), lat("x", "custom-d", 60)}}
				for j := range players {
					in.DesiredPlayerSessions = append(in.DesiredPlayerSessions, gamelift.DesiredPlayerSession{PlayerId: fmt.Sprintf("p%d-%d", i, j)})
				}
				_, err := e.svc.StartGameSessionPlacement(e.ctx, in)
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if placerOnly {
		start = time.Now()
		e.start(clock.Real{}, benchWorkers)
	}
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		b.Fatalf("only %d of %d placements fulfilled", fulfilled.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "placements/s")
	// CPU seconds of the whole process (placer, store, callers) per
	// placement: other work on a shared machine slows placements/s but
	// not this.
	b.ReportMetric((cpuTime()-cpu0).Seconds()*1e6/float64(b.N), "cpu-µs/placement")
}

type countListener struct {
	n     *atomic.Int64
	total int64
	done  chan struct{}
}

func (c countListener) PlacementEnded(ctx context.Context, w store.Writer, p placement.Placement) error {
	if p.Status != gamelift.PlacementFulfilled {
		return fmt.Errorf("placement %s ended %s", p.PlacementID, p.Status)
	}
	w.AfterCommit(func() {
		if c.n.Add(1) == c.total {
			close(c.done)
		}
	})
	return nil
}

// benchWorkers is the placer's worker count in the benchmarks.
var benchWorkers = 64

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
