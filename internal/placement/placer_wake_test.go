package placement

import (
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/service"
)

// A process that becomes free while a placement is being attempted —
// the attempt read the store before the process was there — must make
// that placement try again at once: its retry timer may be far off (on a
// fake clock, never), so a lost wake would leave the placement waiting
// beside an idle process.
func TestCapacityDuringAnAttemptMakesItTryAgainAtOnce(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC))
	s := &Service{cfg: Config{Base: service.Base{Clock: clk}, Workers: 1}, admit: newAdmission(64)}
	pl := newPlacer(s)
	s.placer = pl
	pl.running = true
	pl.wake("p1")
	if ids := pl.pop(1); len(ids) != 1 {
		t.Fatalf("popped %v", ids)
	}
	s.CapacityAvailable("fleet-1", "custom-a") // while p1 is attempted
	pl.finish("p1", outcome{at: clk.Now().Add(time.Minute), waitQueue: "q"})
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if e := pl.entries["p1"]; e == nil || !e.queued || e.timer != nil || len(pl.ready) != 1 {
		t.Fatalf("after a capacity wake during its attempt p1 is %+v, ready %v; want it queued again at once", e, pl.ready)
	}
}

// Retries of a placement that keeps finding no process are spaced 1, 2,
// 4, 4… RetryIntervals apart, never past its next latency policy or its
// deadline.
func TestRetriesOfAPlacementWithoutAProcessAreSpacedOut(t *testing.T) {
	now := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	at, far := now.Add(time.Second), now.Add(time.Hour)
	for misses, want := range []time.Duration{1, 1, 2, 4, 4, 4, 4} {
		if got := spacedRetry(at, far, time.Second, misses).Sub(now); got != want*time.Second {
			t.Errorf("after %d misses the retry is %v away, want %v", misses, got, want*time.Second)
		}
	}
	if got := spacedRetry(at, now.Add(2500*time.Millisecond), time.Second, 5); !got.Equal(now.Add(2500 * time.Millisecond)) {
		t.Errorf("a retry past the limit is at %v, want the limit", got.Sub(now))
	}
}
