package fleet_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// sweepEnv is a fleet whose compute has an agent running one process, and
// a Sweeper that has watched for long enough to judge it.
type sweepEnv struct {
	*fleettest.Env
	t  *testing.T
	sw *fleet.Sweeper
}

const interval = fleettest.HeartbeatInterval

func newSweepEnv(t *testing.T) *sweepEnv {
	e := &sweepEnv{Env: fleettest.New(t, "custom-sweep"), t: t}
	e.sw = e.Fleets.NewSweeper()
	for range fleet.LostAfterHeartbeats + 1 {
		e.Clock.Advance(interval)
		e.heartbeat()
		e.sweep()
	}
	e.wantStatus(gamelift.ComputeActive, fleet.ProcessPending)
	return e
}

// heartbeat is the agent's heartbeat, reporting its process.
func (e *sweepEnv) heartbeat() {
	e.t.Helper()
	hb := agentwire.Heartbeat{Processes: []agentwire.Process{{ProcessID: "p-1", PID: 100}}}
	if _, err := e.Fleets.Heartbeat(e.Ctx, e.FleetID, fleettest.Compute, hb); err != nil {
		e.t.Fatal(err)
	}
}

func (e *sweepEnv) sweep() {
	e.t.Helper()
	if err := e.sw.Sweep(e.Ctx); err != nil {
		e.t.Fatal(err)
	}
}

// wantStatus checks the compute's status and its process's.
func (e *sweepEnv) wantStatus(compute, process string) {
	e.t.Helper()
	c, err := e.Fleets.ComputeOf(e.Ctx, e.FleetID, fleettest.Compute)
	if err != nil {
		e.t.Fatal(err)
	}
	var p fleet.Process
	err = e.Store.View(e.Ctx, func(r store.Reader) (err error) {
		p, _, err = fleet.GetProcess(e.Ctx, r, "p-1")
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if c.Status != compute || p.Status != process {
		e.t.Fatalf("compute %s, process %s (%s); want %s and %s", c.Status, p.Status, p.EndReason, compute, process)
	}
}

// TestASweepAfterAPauseJudgesNothingLostUntilItHasWatchedAgain: a control
// plane that was paused (SIGSTOP, a frozen VM, a long GC) heard no
// heartbeat meanwhile because it could not, not because the agents went
// quiet: its first sweep after the pause judges no compute lost, and a
// compute is lost only after three intervals of silence it watched.
func TestASweepAfterAPauseJudgesNothingLostUntilItHasWatchedAgain(t *testing.T) {
	t.Run("an agent that heartbeats again after the pause keeps its compute", func(t *testing.T) {
		e := newSweepEnv(t)
		e.Clock.Advance(5 * interval) // the pause, in one step
		e.sweep()
		e.wantStatus(gamelift.ComputeActive, fleet.ProcessPending)
		for range 2 * fleet.LostAfterHeartbeats {
			e.heartbeat()
			e.Clock.Advance(interval)
			e.sweep()
		}
		e.wantStatus(gamelift.ComputeActive, fleet.ProcessPending)
	})
	t.Run("an agent that stays silent after the pause is lost three intervals later", func(t *testing.T) {
		e := newSweepEnv(t)
		e.Clock.Advance(5 * interval)
		e.sweep()
		e.wantStatus(gamelift.ComputeActive, fleet.ProcessPending)
		for range fleet.LostAfterHeartbeats - 1 {
			e.Clock.Advance(interval)
			e.sweep()
			e.wantStatus(gamelift.ComputeActive, fleet.ProcessPending)
		}
		e.Clock.Advance(interval)
		e.sweep()
		e.wantStatus(gamelift.ComputeImpaired, fleet.ProcessTerminated)
	})
	t.Run("a sweep a little late is no pause", func(t *testing.T) {
		e := newSweepEnv(t)
		e.Clock.Advance(e.Fleets.OutageGap()) // the ticker was held up, no more
		e.sweep()
		for range fleet.LostAfterHeartbeats - 1 {
			e.Clock.Advance(interval)
			e.sweep()
		}
		e.wantStatus(gamelift.ComputeImpaired, fleet.ProcessTerminated)
	})
}

// TestASweepAfterAPauseJudgesNoProcessSilentUntilItHasWatchedAgain: the
// same holds for server processes' SDK heartbeats, over SilenceTimeout.
func TestASweepAfterAPauseJudgesNoProcessSilentUntilItHasWatchedAgain(t *testing.T) {
	e := fleettest.New(t, "custom-sweep") // a compute without an agent: never lost
	e.AttachProcess(t, "p-quiet")
	sw := e.Fleets.NewSweeper()
	status := func() string {
		t.Helper()
		var p fleet.Process
		err := e.Store.View(e.Ctx, func(r store.Reader) (err error) {
			p, _, err = fleet.GetProcess(e.Ctx, r, "p-quiet")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return p.Status
	}
	tick := func() {
		t.Helper()
		e.Clock.Advance(interval)
		if err := sw.Sweep(e.Ctx); err != nil {
			t.Fatal(err)
		}
	}
	for range fleet.SilenceTimeout / interval {
		tick()
		if err := e.Fleets.ProcessHeartbeat(e.Ctx, "p-quiet", true); err != nil {
			t.Fatal(err)
		}
	}
	e.Clock.Advance(fleet.SilenceTimeout + interval) // the pause, in one step
	if err := sw.Sweep(e.Ctx); err != nil {
		t.Fatal(err)
	}
	if st := status(); st != fleet.ProcessPending {
		t.Fatalf("the first sweep after the pause ended the process: %s", st)
	}
	for range fleet.SilenceTimeout/interval - 1 {
		tick()
	}
	if st := status(); st != fleet.ProcessPending {
		t.Fatalf("a process silent for less than %v after the pause was ended: %s", fleet.SilenceTimeout, st)
	}
	tick()
	if st := status(); st != fleet.ProcessTerminated {
		t.Fatalf("a process silent for %v after the pause is %s, want TERMINATED", fleet.SilenceTimeout, st)
	}
}

// failingStore fails every read and write while down is set.
type failingStore struct {
	store.Store
	down atomic.Bool
}

var errDown = errors.New("the store is down")

func (f *failingStore) View(ctx context.Context, fn func(store.Reader) error) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.View(ctx, fn)
}

func (f *failingStore) Update(ctx context.Context, fn func(store.Writer) error) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.Update(ctx, fn)
}

// TestASweepAfterAStoreOutageJudgesNothingLostUntilItHasWatchedAgain:
// while the store fails, agents' heartbeats fail with it; sweeps that
// kept their schedule but could not read are no watch, and the first
// sweep after the store is back judges no compute lost.
func TestASweepAfterAStoreOutageJudgesNothingLostUntilItHasWatchedAgain(t *testing.T) {
	e := fleettest.New(t, "custom-sweep")
	db := &failingStore{Store: e.Store}
	svc := fleet.NewService(fleet.Config{Base: service.Base{Store: db, Clock: e.Clock}, HeartbeatInterval: interval})
	hb := agentwire.Heartbeat{Processes: []agentwire.Process{{ProcessID: "p-1", PID: 100}}}
	sw := heartbeatAndSweep(t, e, svc, hb)
	db.down.Store(true)
	for range 5 {
		e.Clock.Advance(interval)
		if _, err := svc.Heartbeat(e.Ctx, e.FleetID, fleettest.Compute, hb); err == nil {
			t.Fatal("a heartbeat got through a store that is down")
		}
		if err := sw.Sweep(e.Ctx); !errors.Is(err, errDown) {
			t.Fatalf("a sweep while the store is down: %v", err)
		}
	}
	db.down.Store(false)
	e.Clock.Advance(interval)
	if err := sw.Sweep(e.Ctx); err != nil {
		t.Fatal(err)
	}
	c, err := svc.ComputeOf(e.Ctx, e.FleetID, fleettest.Compute)
	if err != nil || c.Status != gamelift.ComputeActive {
		t.Fatalf("compute after the store came back: %s %v; want ACTIVE", c.Status, err)
	}
	if _, err := svc.Heartbeat(e.Ctx, e.FleetID, fleettest.Compute, hb); err != nil {
		t.Fatal(err)
	}
}

// stallingStore holds the next read up for stall of the fake clock.
type stallingStore struct {
	store.Store
	e     *fleettest.Env
	stall atomic.Int64
}

func (s *stallingStore) View(ctx context.Context, fn func(store.Reader) error) error {
	if d := s.stall.Swap(0); d > 0 {
		s.e.Clock.Advance(time.Duration(d))
	}
	return s.Store.View(ctx, fn)
}

// TestASweepTheStoreHeldUpJudgesNothingLost: a sweep whose read the store
// held up for longer than half an interval read a state that heartbeats
// held up with it have not reached: it marks nothing, and the sweep after
// it starts watching again.
func TestASweepTheStoreHeldUpJudgesNothingLost(t *testing.T) {
	e := fleettest.New(t, "custom-sweep")
	db := &stallingStore{Store: e.Store, e: e}
	svc := fleet.NewService(fleet.Config{Base: service.Base{Store: db, Clock: e.Clock}, HeartbeatInterval: interval})
	hb := agentwire.Heartbeat{Processes: []agentwire.Process{{ProcessID: "p-1", PID: 100}}}
	sw := heartbeatAndSweep(t, e, svc, hb)
	status := func() string {
		t.Helper()
		c, err := svc.ComputeOf(e.Ctx, e.FleetID, fleettest.Compute)
		if err != nil {
			t.Fatal(err)
		}
		return c.Status
	}
	for range fleet.LostAfterHeartbeats {
		e.Clock.Advance(interval)
		if err := sw.Sweep(e.Ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.Clock.Advance(time.Second) // three intervals and a second since the last heartbeat
	db.stall.Store(int64(interval))
	if err := sw.Sweep(e.Ctx); err == nil {
		t.Fatal("a sweep held up for an interval reported no error")
	}
	if st := status(); st != gamelift.ComputeActive {
		t.Fatalf("a sweep held up for an interval marked the compute %s", st)
	}
	e.Clock.Advance(interval)
	if err := sw.Sweep(e.Ctx); err != nil {
		t.Fatal(err)
	}
	if st := status(); st != gamelift.ComputeActive {
		t.Fatalf("the sweep after a held-up one marked the compute %s", st)
	}
}

// heartbeatAndSweep runs a new sweeper of svc through its grace, with the
// compute heartbeating hb each interval, and returns it: from then on the
// sweeper judges.
func heartbeatAndSweep(t *testing.T, e *fleettest.Env, svc *fleet.Service, hb agentwire.Heartbeat) *fleet.Sweeper {
	t.Helper()
	sw := svc.NewSweeper()
	for range fleet.LostAfterHeartbeats + 1 {
		e.Clock.Advance(interval)
		if _, err := svc.Heartbeat(e.Ctx, e.FleetID, fleettest.Compute, hb); err != nil {
			t.Fatal(err)
		}
		if err := sw.Sweep(e.Ctx); err != nil {
			t.Fatal(err)
		}
	}
	return sw
}
