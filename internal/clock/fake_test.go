package clock_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
)

func TestFakeFiresTimersInOrderOnAdvance(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	f := clock.NewFake(start)
	late := f.NewTimer(2 * time.Second)
	early := f.NewTimer(time.Second)
	var fired atomic.Int32
	done := make(chan struct{})
	f.AfterFunc(1500*time.Millisecond, func() { fired.Add(1); close(done) })

	f.Advance(time.Second)
	select {
	case got := <-early.C():
		if !got.Equal(start.Add(time.Second)) {
			t.Fatalf("early timer fired at %v", got)
		}
	default:
		t.Fatal("early timer did not fire after 1s")
	}
	select {
	case <-late.C():
		t.Fatal("late timer fired too soon")
	default:
	}
	f.Advance(time.Second)
	<-done
	if fired.Load() != 1 {
		t.Fatal("AfterFunc did not run")
	}
	if got := <-late.C(); !got.Equal(start.Add(2 * time.Second)) {
		t.Fatalf("late timer fired at %v", got)
	}
	if f.Timers() != 0 {
		t.Fatalf("%d timers still armed", f.Timers())
	}
}

func TestFakeTickerRepeatsAndStops(t *testing.T) {
	f := clock.NewFake(time.Unix(0, 0))
	tk := f.NewTicker(time.Second)
	for i := 1; i <= 3; i++ {
		f.Advance(time.Second)
		if got := <-tk.C(); got.Unix() != int64(i) {
			t.Fatalf("tick %d at %v", i, got.Unix())
		}
	}
	tk.Stop()
	f.Advance(time.Second)
	select {
	case <-tk.C():
		t.Fatal("stopped ticker ticked")
	default:
	}
}

func TestFakeStoppedTimerDoesNotFire(t *testing.T) {
	f := clock.NewFake(time.Unix(0, 0))
	tm := f.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop on an armed timer reported false")
	}
	f.Advance(2 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
	tm.Reset(time.Second)
	f.Advance(time.Second)
	<-tm.C()
}

func TestAfterFuncAtFiresAtAnAbsoluteTimeOrAtOnceWhenPast(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	f := clock.NewFake(start)
	fired := make(chan string, 2)
	clock.AfterFuncAt(f, start.Add(-time.Second), func() { fired <- "past" })
	if got := <-fired; got != "past" {
		t.Fatal(got)
	}
	clock.AfterFuncAt(f, start.Add(2*time.Second), func() { fired <- "future" })
	f.Advance(time.Second)
	select {
	case got := <-fired:
		t.Fatalf("%s fired a second early", got)
	default:
	}
	f.Advance(time.Second)
	if got := <-fired; got != "future" {
		t.Fatal(got)
	}
	done := make(chan struct{})
	clock.AfterFuncAt(clock.Real{}, time.Now().Add(-time.Second), func() { close(done) })
	<-done // the real clock runs a past time at once too
}
