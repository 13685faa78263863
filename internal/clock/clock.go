package clock

import "time"

// Clock tells the time and schedules work in the future.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that sends the time on C after d.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f in its own goroutine after d.
	AfterFunc(d time.Duration, f func()) Timer
	// NewTicker returns a ticker that sends the time on C every d.
	NewTicker(d time.Duration) Ticker
}

// Timer is the part of *time.Timer that services use.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// Ticker is the part of *time.Ticker that services use.
type Ticker interface {
	C() <-chan time.Time
	Stop()
	Reset(d time.Duration)
}

// AfterFuncAt calls f in its own goroutine once c's time reaches at (at
// once if it already has). Clocks that can schedule at an absolute time do
// so atomically (Fake.AfterFuncAt); others get the duration from Now.
func AfterFuncAt(c Clock, at time.Time, f func()) Timer {
	if a, ok := c.(interface {
		AfterFuncAt(time.Time, func()) Timer
	}); ok {
		return a.AfterFuncAt(at, f)
	}
	return c.AfterFunc(at.Sub(c.Now()), f)
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now.
func (Real) Now() time.Time { return time.Now() }

// NewTimer wraps time.NewTimer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// AfterFunc wraps time.AfterFunc.
func (Real) AfterFunc(d time.Duration, f func()) Timer { return realTimer{time.AfterFunc(d, f)} }

// NewTicker wraps time.NewTicker.
func (Real) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time   { return r.t.C }
func (r realTicker) Stop()                 { r.t.Stop() }
func (r realTicker) Reset(d time.Duration) { r.t.Reset(d) }
