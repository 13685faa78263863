package matchmaking

import (
	"sync"
	"time"
)

// waitStats keeps the waits of tickets matched in the last 10 minutes (at
// most maxWaitSamples) and their sum, so the mean that every ticket and
// MatchmakingSearching event reports costs O(1), not a pass over the window.
type waitStats struct {
	mu      sync.Mutex
	samples []waitSample // samples[head:] are in the window, oldest first
	head    int
	sum     time.Duration // of samples[head:]
}

type waitSample struct {
	at   time.Time
	wait time.Duration
}

const waitWindow, maxWaitSamples = 10 * time.Minute, 10000

func (w *waitStats) add(now time.Time, ws []time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, d := range ws {
		w.samples = append(w.samples, waitSample{now, d})
		w.sum += d
	}
	w.trimLocked(now)
}

// trimLocked drops samples older than the window, or beyond the newest
// maxWaitSamples, and compacts the slice once half of it is dropped.
func (w *waitStats) trimLocked(now time.Time) {
	for w.head < len(w.samples) && (now.Sub(w.samples[w.head].at) > waitWindow || len(w.samples)-w.head > maxWaitSamples) {
		w.sum -= w.samples[w.head].wait
		w.head++
	}
	if w.head > 0 && w.head >= len(w.samples)/2 {
		w.samples = append(w.samples[:0], w.samples[w.head:]...)
		w.head = 0
	}
}

// mean returns the mean wait, or false with fewer than 5 recent samples.
func (w *waitStats) mean(now time.Time) (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.trimLocked(now)
	n := len(w.samples) - w.head
	if n < 5 {
		return 0, false
	}
	return w.sum / time.Duration(n), true
}

func (w *waitStats) seconds(now time.Time) *int32 {
	d, ok := w.mean(now)
	if !ok {
		return nil
	}
	s := int32(d.Round(time.Second) / time.Second)
	return &s
}

// eventWait is a MatchmakingSearching event's estimatedWaitMillis. Despite
// its name GameLift gives it in seconds, the same value as
// EstimatedWaitTime (its event documentation says so), and "NOT_AVAILABLE"
// without one.
func (w *waitStats) eventWait(now time.Time) any {
	if s := w.seconds(now); s != nil {
		return *s
	}
	return "NOT_AVAILABLE"
}
