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
// event. The server runs it every heartbeat interval; tests call it.
func (s *Service) SweepLostComputes(ctx context.Context) error {
	deadline := s.cfg.Clock.Now().Add(-LostAfterHeartbeats * s.cfg.HeartbeatInterval)
	computes, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) ([]Compute, error) {
		return store.FindAll[Compute](ctx, r, store.Query{Kind: KindCompute, Prefix: true})
	})
	if err != nil {
		return err
	}
	var lost []string
	for _, c := range computes {
		if c.Agent && c.Status != gamelift.ComputeImpaired && c.Heartbeat.Before(deadline) {
			lost = append(lost, computeID(c.FleetID, c.Name))
		}
	}
	for _, id := range lost {
		err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
			c, version, err := store.GetJSON[Compute](ctx, w, KindCompute, id)
			if err != nil {
				return err
			}
			if c.Status == gamelift.ComputeImpaired || !c.Heartbeat.Before(deadline) {
				return nil // it came back meanwhile
			}
			c.Status = gamelift.ComputeImpaired
			if _, err := w.Put(ctx, store.Record{Kind: KindCompute, ID: id, Doc: store.MustJSON(c), Keys: computeKeys(c), Version: version}); err != nil {
				return err
			}
			if err := s.AddEvent(ctx, w, c.FleetID, "GENERIC_EVENT", fmt.Sprintf("Compute %s in %s was lost: no agent heartbeat since %s", c.Name, c.Location, c.Heartbeat.Format(time.RFC3339))); err != nil {
				return err
			}
			return s.endComputeProcesses(ctx, w, c, EndComputeLost)
		})
		if err != nil && !fault.Is(err, fault.NotFound) {
			return fmt.Errorf("sweep lost compute %s: %w", id, err)
		}
		s.cfg.Logger.Warn("compute lost", "compute", id)
	}
	return nil
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
	deadline := s.cfg.Clock.Now().Add(-SilenceTimeout)
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
// until ctx ends. Heartbeats that could not arrive because the control
// plane itself was down (restarted, or this replica just took the sweep
// over from one that was) are not silence: a sweep judges nothing lost
// before it has watched for as long as the silence it looks for, or the
// first sweep after an outage would end every process on every host.
func (s *Service) Run(ctx context.Context) error {
	started := s.cfg.Clock.Now()
	return s.cfg.Every(ctx, s.cfg.HeartbeatInterval, "fleet sweep", func(ctx context.Context) error {
		lost, silent := s.SweepsDue(s.cfg.Clock.Now().Sub(started))
		var errs []error
		if lost {
			errs = append(errs, s.SweepLostComputes(ctx))
		}
		if silent {
			errs = append(errs, s.SweepSilentProcesses(ctx))
		}
		return errors.Join(errs...)
	})
}

// SweepsDue says which sweeps a sweeper that has watched for watched may
// run: lost computes once it has watched for LostAfterHeartbeats
// heartbeat intervals, silent processes once for SilenceTimeout.
func (s *Service) SweepsDue(watched time.Duration) (lost, silent bool) {
	return watched >= LostAfterHeartbeats*s.cfg.HeartbeatInterval, watched >= SilenceTimeout
}
