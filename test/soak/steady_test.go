//go:build soak

package soak_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/testenv"
)

// TestSoakSteadyMemory sends -soak.steady-rate tickets a second for
// -soak.steady with no faults; every pair matches at once and finished
// tickets are dropped after a 10 s retention, so the server's state
// reaches a steady size. After a warm-up of a third of the phase, the
// server's RSS and goroutines must stay flat: it fails on growth that only
// a leak explains (goroutines up by half, RSS doubled) and logs the drift
// for the note.
func TestSoakSteadyMemory(t *testing.T) {
	c := newCluster(t, t.TempDir(), "--matchmaking-ticket-retention", "10s")
	ctx := context.Background()
	if err := testenv.CreateMatchmaking(ctx, c.admin(), testenv.Matchmaking{Name: "steady", Rules: pairRules}); err != nil {
		t.Fatal(err)
	}
	// The load's client retries as the AWS SDKs do by default: a ticket
	// shed at the door while the machine is too busy for the writer to
	// keep up (ThrottlingException, nothing written) is sent again, and
	// the sheds are reported beside the drift.
	load := c.checker()
	var sent, failed atomic.Int64
	loadCtx, stop := context.WithTimeout(ctx, *steadyPhase)
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() {
		// The load keeps to its rate on average: each millisecond it sends
		// what is due since the start, so a late wake-up (a busy machine)
		// is made up at once instead of lost as a dropped tick.
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		sem := make(chan struct{}, 64)
		var inner sync.WaitGroup
		defer inner.Wait()
		start := time.Now()
		for {
			select {
			case <-loadCtx.Done():
				return
			case <-tick.C:
			}
			due := int64(time.Since(start).Seconds() * float64(*steadyRate))
			for sent.Load() < due && loadCtx.Err() == nil {
				sem <- struct{}{}
				i := sent.Add(1)
				inner.Go(func() {
					defer func() { <-sem }()
					id := fmt.Sprintf("steady-%d", i)
					if _, err := load.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String("steady"),
						Players: []types.Player{{PlayerId: aws.String("p-" + id)}}}); err != nil {
						failed.Add(1)
					}
				})
			}
		}
	})
	var samples []sample
	began := time.Now()
	every := *steadyPhase / 20
	for range time.Tick(every) { // sampling the server, not waiting for a timeout
		samples = append(samples, sample{time.Since(began).Round(time.Second), rssKiB(t, c.server().Pid()), goroutines(t, c)})
		if loadCtx.Err() != nil {
			break
		}
	}
	wg.Wait()
	t.Logf("sent %d tickets (%d/s), %d failed; %d attempts shed at the door and retried", sent.Load(), sent.Load()/int64(steadyPhase.Seconds()), failed.Load(),
		metric(t, c, `muster_admission_refused_total{door="ticket"}`))
	if failed.Load() > 0 {
		t.Errorf("%d tickets refused in a steady phase with no faults", failed.Load())
	}
	warm := samples[len(samples)/3]
	var maxRSS, maxG int64
	for _, s := range samples[len(samples)/3:] {
		maxRSS, maxG = max(maxRSS, s.rss), max(maxG, s.goroutines)
	}
	for _, s := range samples {
		t.Logf("%8v rss %7d KiB goroutines %5d", s.at, s.rss, s.goroutines)
	}
	t.Logf("after the warm-up: RSS %d → max %d KiB (%+.1f%%), goroutines %d → max %d (%+.1f%%)",
		warm.rss, maxRSS, 100*float64(maxRSS-warm.rss)/float64(warm.rss), warm.goroutines, maxG, 100*float64(maxG-warm.goroutines)/float64(warm.goroutines))
	// The goroutine count swings with the requests in flight (up to 64 at
	// once, each with its handler): a leak raises its floor, so the lowest
	// count of the last third is compared with that of the middle third.
	middle, last := floor(samples[len(samples)/3:2*len(samples)/3]), floor(samples[2*len(samples)/3:])
	t.Logf("goroutines at their lowest: %d in the middle third, %d in the last", middle, last)
	if last > middle*3/2+20 {
		t.Errorf("the goroutines' floor grew from %d to %d in a steady phase: a leak", middle, last)
	}
	if maxRSS > 2*warm.rss {
		t.Errorf("RSS grew from %d to %d KiB in a steady phase: a leak", warm.rss, maxRSS)
	}
}

// sample is one reading of the server during the steady phase.
type sample struct {
	at         time.Duration
	rss        int64
	goroutines int64
}

// floor is the lowest goroutine count of samples.
func floor(samples []sample) int64 {
	low := samples[0].goroutines
	for _, s := range samples[1:] {
		low = min(low, s.goroutines)
	}
	return low
}

// rssKiB reads a process's resident set size from /proc.
func rssKiB(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	t.Fatal("no VmRSS in /proc/status")
	return 0
}

// goroutines reads go_goroutines from the server's /metrics.
func goroutines(t *testing.T, c *cluster) int64 {
	return metric(t, c, "go_goroutines")
}

// metric reads one sample, named with its labels, from the server's
// /metrics.
func metric(t *testing.T, c *cluster, name string) int64 {
	res, body, err := c.server().Bearer(context.Background(), http.MethodGet, "/metrics", "")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %v %v", err, res)
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			n, _ := strconv.ParseFloat(rest, 64)
			return int64(n)
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}
