package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a Clock whose time moves only when Advance or Set is called. Due
// timers, tickers and AfterFunc callbacks fire in time order during Advance,
// and Advance returns only once everything it fired has run: a timer's or
// ticker's time is in its channel (or dropped, as a real ticker drops ticks
// nobody reads), and an AfterFunc callback has returned. A test can
// therefore check a callback's effect right after Advance, without polling.
//
// The rule for callbacks that follows: a callback runs on its own
// goroutine while Advance waits for it, one callback at a time, so
//   - it must not call Advance or Set on the same clock, nor wait for
//     anything that happens only after Advance returns (the test's next
//     step, another callback due later in the same Advance): Advance would
//     wait for it forever;
//   - work it starts on a goroutine of its own is not waited for: a callback
//     that hands work to another goroutine (a loop reading a channel, a
//     go statement) gives no guarantee about that work when Advance returns.
//     Tests reach such work through the owner's synchronous entry point
//     (for example matchmaking's Process) rather than by polling.
//
// A receive from a timer's or ticker's channel is such hand-off work too:
// Advance does not wait for the goroutine that reads the channel.
// It is safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeWaiter
	armed   *sync.Cond // signalled whenever a waiter is added
}

// NewFake returns a Fake clock set to start.
func NewFake(start time.Time) *Fake {
	f := &Fake{now: start}
	f.armed = sync.NewCond(&f.mu)
	return f
}

type fakeWaiter struct {
	clock  *Fake
	when   time.Time
	period time.Duration // > 0 for tickers
	fn     func()        // AfterFunc callback; nil for channel timers
	ch     chan time.Time
	active bool
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward by d, firing everything due on the way,
// and returns after the AfterFunc callbacks it fired have returned (see
// Fake for what a callback may do).
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	target := f.now.Add(d)
	f.mu.Unlock()
	f.Set(target)
}

// Set moves the clock to t (never backwards), firing everything due on the
// way; like Advance, it returns after the callbacks it fired have returned.
func (f *Fake) Set(t time.Time) {
	for {
		f.mu.Lock()
		w := f.nextDueLocked(t)
		if w == nil {
			if t.After(f.now) {
				f.now = t
			}
			f.mu.Unlock()
			return
		}
		if w.when.After(f.now) {
			f.now = w.when
		}
		now := f.now
		if w.period > 0 {
			w.when = w.when.Add(w.period)
		} else {
			w.active = false
			f.removeLocked(w)
		}
		f.mu.Unlock()
		if w.fn != nil {
			runCallback(w.fn)
		} else {
			select {
			case w.ch <- now:
			default: // like time.Ticker, drop ticks nobody reads
			}
		}
	}
}

// runCallback runs fn on a goroutine of its own, as a real AfterFunc does,
// and waits for it to return.
func runCallback(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// WaitForTimers blocks until at least n timers, tickers or AfterFuncs are
// armed. Tests use it to know a goroutine has reached its wait before Advance.
func (f *Fake) WaitForTimers(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.waiters) < n {
		f.armed.Wait()
	}
}

// Timers reports how many timers are armed.
func (f *Fake) Timers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

func (f *Fake) nextDueLocked(limit time.Time) *fakeWaiter {
	sort.SliceStable(f.waiters, func(i, j int) bool { return f.waiters[i].when.Before(f.waiters[j].when) })
	if len(f.waiters) == 0 || f.waiters[0].when.After(limit) {
		return nil
	}
	return f.waiters[0]
}

func (f *Fake) removeLocked(w *fakeWaiter) {
	for i, x := range f.waiters {
		if x == w {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			return
		}
	}
}

func (f *Fake) addLocked(w *fakeWaiter) {
	w.active = true
	f.waiters = append(f.waiters, w)
	f.armed.Broadcast()
}

// NewTimer returns a fake timer.
func (f *Fake) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &fakeWaiter{clock: f, when: f.now.Add(d), ch: make(chan time.Time, 1)}
	f.addLocked(w)
	return w
}

// AfterFunc schedules fn on the fake clock; the Advance that reaches its
// time runs it and waits for it to return.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &fakeWaiter{clock: f, when: f.now.Add(d), fn: fn}
	f.addLocked(w)
	return w
}

// AfterFuncAt schedules fn for the fake time at; when at is not after the
// fake now, fn runs at once on its own goroutine, not waited for (the
// caller may hold locks fn needs). Unlike AfterFunc(at.Sub(Now())), it
// cannot miss at when the clock moves between reading the time and
// scheduling.
func (f *Fake) AfterFuncAt(at time.Time, fn func()) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &fakeWaiter{clock: f, when: at, fn: fn}
	if !at.After(f.now) {
		go fn()
		return w // already fired: Stop reports false
	}
	f.addLocked(w)
	return w
}

// NewTicker returns a fake ticker.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive ticker period")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &fakeWaiter{clock: f, when: f.now.Add(d), period: d, ch: make(chan time.Time, 1)}
	f.addLocked(w)
	return fakeTicker{w}
}

func (w *fakeWaiter) C() <-chan time.Time { return w.ch }

func (w *fakeWaiter) Stop() bool {
	w.clock.mu.Lock()
	defer w.clock.mu.Unlock()
	was := w.active
	w.active = false
	w.clock.removeLocked(w)
	return was
}

func (w *fakeWaiter) Reset(d time.Duration) bool {
	w.clock.mu.Lock()
	defer w.clock.mu.Unlock()
	was := w.active
	w.clock.removeLocked(w)
	w.when = w.clock.now.Add(d)
	if w.period > 0 {
		w.period = d
	}
	w.clock.addLocked(w)
	return was
}

type fakeTicker struct{ w *fakeWaiter }

func (t fakeTicker) C() <-chan time.Time   { return t.w.ch }
func (t fakeTicker) Stop()                 { t.w.Stop() }
func (t fakeTicker) Reset(d time.Duration) { t.w.Reset(d) }
