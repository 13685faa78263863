package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
)

// drainRig runs a devDrain on a fake clock with a count of live game
// sessions the test sets.
type drainRig struct {
	dd      *devDrain
	clk     *clock.Fake
	live    atomic.Int64
	drained atomic.Bool
	again   chan os.Signal
	mu      sync.Mutex
	said    strings.Builder
}

func newDrainRig(live int) *drainRig {
	r := &drainRig{clk: clock.NewFake(time.Unix(1_800_000_000, 0)), again: make(chan os.Signal, 1)}
	r.live.Store(int64(live))
	r.dd = &devDrain{grace: 30 * time.Second, clock: r.clk, again: r.again,
		drain: func(context.Context) error { r.drained.Store(true); return nil },
		live:  func(context.Context) (int, error) { return int(r.live.Load()), nil },
		say: func(format string, args ...any) {
			r.mu.Lock()
			defer r.mu.Unlock()
			fmt.Fprintf(&r.said, format, args...)
		}}
	return r
}

func (r *drainRig) start() <-chan int {
	out := make(chan int, 1)
	go func() { out <- r.dd.run(context.Background()) }()
	r.clk.WaitForTimers(2) // the grace and the poll
	return out
}

func (r *drainRig) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.said.String()
}

func TestDevDrainWaitsForLiveMatchesToEnd(t *testing.T) {
	r := newDrainRig(2)
	done := r.start()
	if !r.drained.Load() {
		t.Fatal("the dev compute was not drained first")
	}
	r.clk.Advance(time.Second)
	select {
	case n := <-done:
		t.Fatalf("the drain ended with %d matches still live", n)
	default:
	}
	r.live.Store(0)
	for {
		r.clk.Advance(200 * time.Millisecond)
		select {
		case n := <-done:
			if n != 0 || !strings.Contains(r.output(), "waiting up to 30s for 2 game session(s)") || !strings.Contains(r.output(), "every match ended") {
				t.Fatalf("ended with %d live; said:\n%s", n, r.output())
			}
			return
		default:
		}
	}
}

func TestDevDrainEndsAfterTheGraceOrASecondCtrlC(t *testing.T) {
	r := newDrainRig(1)
	done := r.start()
	r.clk.Advance(30 * time.Second)
	if n := <-done; n != 1 || !strings.Contains(r.output(), "still running after 30s") {
		t.Fatalf("after the grace: %d live; said:\n%s", n, r.output())
	}

	r = newDrainRig(1)
	done = r.start()
	r.again <- os.Interrupt
	if n := <-done; n != 1 || !strings.Contains(r.output(), "Stopping now") {
		t.Fatalf("after a second Ctrl-C: %d live; said:\n%s", n, r.output())
	}
}

func TestDevDrainWithNothingLiveOrNoGraceStopsAtOnce(t *testing.T) {
	r := newDrainRig(0)
	if n := r.dd.run(context.Background()); n != 0 || !r.drained.Load() || r.output() != "" {
		t.Fatalf("nothing live: %d, drained %v, said %q", n, r.drained.Load(), r.output())
	}
	r = newDrainRig(3)
	r.dd.grace = 0
	if n := r.dd.run(context.Background()); n != 0 || r.drained.Load() {
		t.Fatalf("--dev-drain-grace 0: %d, drained %v", n, r.drained.Load())
	}
}
