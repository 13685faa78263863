package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// SweepLostComputes marks computes whose agent stopped heartbeating as
// lost (IMPAIRED), ending their processes and game sessions, each with an
// event. A Sweeper runs it every heartbeat interval once it has watched
// for long enough; tests call it.
func (s *Service) SweepLostComputes(ctx context.Context) error {
	return s.sweepLost(ctx, s.cfg.Clock.Now(), true)
}

// errStalled says a sweep's store work began too late for what it read to
// stand: heartbeats queued behind the same stall have not committed yet.
var errStalled = errors.New("the store stalled during the sweep: no compute judged lost")

// sweepLost reads the computes and, when mark is set, marks lost those
// whose last heartbeat is older than LostAfterHeartbeats intervals before
// now, the time the sweep began. It reads even when it marks nothing, so
// that a store that fails during a sweeper's grace breaks its watch.
func (s *Service) sweepLost(ctx context.Context, now time.Time, mark bool) error {
	deadline := now.Add(-LostAfterHeartbeats * s.cfg.HeartbeatInterval)
	computes, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) ([]Compute, error) {
		return store.FindAll[Compute](ctx, r, store.Query{Kind: KindCompute, Prefix: true})
	})
	if err != nil || !mark {
		return err
	}
	var lost []string
	for _, c := range computes {
		if c.Agent && c.Status != gamelift.ComputeImpaired && c.Heartbeat.Before(deadline) {
			lost = append(lost, computeID(c.FleetID, c.Name))
		}
	}
	for _, id := range lost {
		var marked bool
		err := s.cfg.Store.Update(ctx, func(w store.Writer) (err error) {
			marked, err = s.markLost(ctx, w, id, now, deadline)
			return err
		})
		if err != nil && !fault.Is(err, fault.NotFound) {
			return fmt.Errorf("sweep lost compute %s: %w", id, err)
		}
		if marked {
			s.cfg.Logger.Warn("compute lost", "compute", id)
		}
	}
	return nil
}

// markLost is sweepLost's transaction for one compute. It refuses when the
// transaction began over half an interval after the sweep: the store held
// the sweep up, and heartbeats it held up with it would be taken for
// silence.
func (s *Service) markLost(ctx context.Context, w store.Writer, id string, began, deadline time.Time) (bool, error) {
	if late := s.cfg.Clock.Now().Sub(began); late > s.cfg.HeartbeatInterval/2 {
		return false, fmt.Errorf("%w (%v late)", errStalled, late)
	}
	c, version, err := store.GetJSON[Compute](ctx, w, KindCompute, id)
	if err != nil {
		return false, err
	}
	if c.Status == gamelift.ComputeImpaired || !c.Heartbeat.Before(deadline) {
		return false, nil // it came back meanwhile
	}
	c.Status = gamelift.ComputeImpaired
	if _, err := w.Put(ctx, store.Record{Kind: KindCompute, ID: id, Doc: store.MustJSON(c), Keys: computeKeys(c), Version: version}); err != nil {
		return false, err
	}
	if err := s.AddEvent(ctx, w, c.FleetID, "GENERIC_EVENT", fmt.Sprintf("Compute %s in %s was lost: no agent heartbeat since %s", c.Name, c.Location, c.Heartbeat.Format(time.RFC3339))); err != nil {
		return false, err
	}
	return true, s.endComputeProcesses(ctx, w, c, EndComputeLost)
}

// SilenceTimeout is how long a server process may go without an SDK
// heartbeat (every 60 ± 10 s) before it is taken for dead: it covers the
// SDK's ~184 s of reconnect attempts with room to spare.
const SilenceTimeout = 5 * time.Minute

// liveStates are the process states of every process that has not ended.
var liveStates = []string{statePending, stateIdle, stateActivating, stateBusy, stateUsed, stateUnavailable}

// lastHeard is when a process was last heard of on its SDK socket.
func (p Process) lastHeard() time.Time {
	if p.Heartbeat.IsZero() {
		return p.CreatedAt
	}
	return p.Heartbeat
}

// SweepSilentProcesses ends processes that sent no SDK heartbeat (or, never
// ready, connected no later than) SilenceTimeout ago, with their game
// sessions: a crashed process on a compute without an agent, or one whose
// socket never came back.
func (s *Service) SweepSilentProcesses(ctx context.Context) error {
	return s.sweepSilent(ctx, s.cfg.Clock.Now())
}

// sweepSilent is SweepSilentProcesses for a sweep that began at now.
func (s *Service) sweepSilent(ctx context.Context, now time.Time) error {
	deadline := now.Add(-SilenceTimeout)
	var silent []string
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		fleets, err := store.FindAll[Fleet](ctx, r, store.Query{Kind: KindFleet, Prefix: true})
		if err != nil {
			return err
		}
		for _, f := range fleets {
			for _, l := range f.Locations {
				for _, st := range liveStates {
					ps, err := store.FindAll[Process](ctx, r, store.Query{Kind: KindProcess, Key: 1, Value: f.ID + "/" + l + "/" + st})
					if err != nil {
						return err
					}
					for _, p := range ps {
						if p.lastHeard().Before(deadline) {
							silent = append(silent, p.ID)
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range silent {
		err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
			p, version, err := GetProcess(ctx, w, id)
			if err != nil || !p.lastHeard().Before(deadline) {
				return err
			}
			return s.endProcess(ctx, w, p, version, EndSilent)
		})
		if err != nil && !fault.Is(err, fault.NotFound) {
			return fmt.Errorf("sweep silent process %s: %w", id, err)
		}
		s.cfg.Logger.Warn("server process silent: ended", "process", id)
	}
	return nil
}

// Run sweeps lost computes and silent processes every heartbeat interval
// until ctx ends, with a Sweeper that starts watching now.
func (s *Service) Run(ctx context.Context) error {
	w := s.NewSweeper()
	return s.cfg.Every(ctx, s.cfg.HeartbeatInterval, "fleet sweep", w.Sweep)
}

// Sweeper judges silence only over time it watched without a break.
// Heartbeats that could not arrive because the control plane itself was
// not listening are not silence: after a restart, after this replica took
// the sweep over from one that was, and after a pause of the process (a
// stopped or frozen VM, a long GC, a store that stalled or failed) during
// which agents could not get through, the first sweep would otherwise end
// every process on every host. A Sweeper therefore judges nothing lost
// before it has watched for as long as the silence it looks for, and
// starts watching again whenever its sweeps were interrupted: two sweeps
// further apart than OutageGap, or a sweep whose store work failed. It is
// not safe for concurrent use; Run owns one.
type Sweeper struct {
	s *Service
	// since is when the current unbroken watch began; last is when the
	// last sweep that did its store work without an error began.
	since, last time.Time
}

// NewSweeper returns a Sweeper whose watch begins now.
func (s *Service) NewSweeper() *Sweeper {
	now := s.cfg.Clock.Now()
	return &Sweeper{s: s, since: now, last: now}
}

// OutageGap is the longest time between two sweeps that is still one
// watch: sweeps come every heartbeat interval, so a gap of half an
// interval more means the sweeper was held up (paused, stalled) and did
// not see what agents sent meanwhile.
func (s *Service) OutageGap() time.Duration { return s.cfg.HeartbeatInterval * 3 / 2 }

// Sweep is one pass: it restarts the watch after an interruption, then
// runs the sweeps SweepsDue allows for the time watched.
func (w *Sweeper) Sweep(ctx context.Context) error {
	s := w.s
	now := s.cfg.Clock.Now()
	if gap := now.Sub(w.last); gap > s.OutageGap() {
		s.cfg.Logger.Warn("fleet sweep: the control plane did not watch the agents for a while; no compute is judged lost and no process silent until it has watched again for as long",
			"gap", gap, "lost_after", LostAfterHeartbeats*s.cfg.HeartbeatInterval, "silent_after", SilenceTimeout)
		w.since = now
	}
	lost, silent := s.SweepsDue(now.Sub(w.since))
	err := s.sweepLost(ctx, now, lost)
	if silent && err == nil {
		err = s.sweepSilent(ctx, now)
	}
	if err == nil {
		w.last = now
	}
	return err
}

// SweepsDue says which sweeps a sweeper that has watched for watched may
// run: lost computes once it has watched for LostAfterHeartbeats
// heartbeat intervals, silent processes once for SilenceTimeout.
func (s *Service) SweepsDue(watched time.Duration) (lost, silent bool) {
	return watched >= LostAfterHeartbeats*s.cfg.HeartbeatInterval, watched >= SilenceTimeout
}
