package clock_test

import (
	"runtime"
	"slices"
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

func TestAdvanceReturnsAfterTheCallbacksItFiredHaveRun(t *testing.T) {
	f := clock.NewFake(time.Unix(0, 0))
	gate := make(chan struct{})
	go func() {
		// Let Advance return first if it does not wait for the callback.
		for range 1000 {
			runtime.Gosched()
		}
		close(gate)
	}()
	var ran atomic.Bool
	f.AfterFunc(time.Second, func() {
		<-gate
		ran.Store(true)
	})
	f.Advance(time.Second)
	if !ran.Load() {
		t.Fatal("Advance returned before the AfterFunc callback it fired had run")
	}

	var at atomic.Bool
	clock.AfterFuncAt(f, f.Now().Add(time.Second), func() { at.Store(true) })
	f.Set(f.Now().Add(time.Second))
	if !at.Load() {
		t.Fatal("Set returned before the AfterFuncAt callback it fired had run")
	}
}

func TestACallbackThatArmsAnotherDueInTheSameAdvanceSeesItFire(t *testing.T) {
	f := clock.NewFake(time.Unix(0, 0))
	var times []int64 // written by callbacks one at a time, read after Advance
	var every func()
	every = func() {
		times = append(times, f.Now().Unix())
		f.AfterFunc(time.Second, every)
	}
	f.AfterFunc(time.Second, every)
	f.Advance(5 * time.Second)
	if want := []int64{1, 2, 3, 4, 5}; !slices.Equal(times, want) {
		t.Fatalf("callbacks ran at %v, want %v", times, want)
	}
}

func TestAdvanceDoesNotWaitForWorkACallbackStartsOnItsOwnGoroutine(t *testing.T) {
	f := clock.NewFake(time.Unix(0, 0))
	release := make(chan struct{})
	finished := make(chan struct{})
	f.AfterFunc(time.Second, func() {
		go func() {
			<-release // held until after Advance: waiting for it would deadlock
			close(finished)
		}()
	})
	f.Advance(time.Second)
	close(release)
	<-finished
}
