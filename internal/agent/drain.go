package agent

import (
	"context"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/clock"
)

// drain ends the compute's work: heartbeat with draining=true so the control
// plane marks the compute TERMINATING and pushes TerminateProcess to its
// processes; SIGTERM the processes that cannot get that push (not yet
// ACTIVE, or all of them when the control plane cannot be told); wait up to
// DrainGrace for every process to exit, heartbeating meanwhile; kill the
// rest; deregister the compute. A compute another agent runs now
// (s.taken) is neither told nor deregistered: SIGTERM goes to every
// process, and the rest is the same.
func (s *Supervisor) drain(ctx context.Context, hb clock.Timer) error {
	s.draining = true
	s.log.Info("draining", "processes", len(s.procs), "grace", s.cfg.DrainGrace)
	s.emit(Event{Kind: EventDraining})
	err := s.taken
	if err == nil {
		var resp *agentwire.Reply
		resp, err = s.cfg.Control.Heartbeat(ctx, s.cfg.FleetID, s.cfg.ComputeName, s.report())
		switch {
		case IsConflict(err):
			s.lose(err)
		case err != nil:
			s.log.Warn("cannot tell the control plane about the drain; terminating the processes directly", "err", err)
		default:
			s.apply(resp)
		}
	}
	reason := "the compute is draining"
	if s.taken != nil {
		reason = "another agent runs the compute"
	}
	for _, p := range s.sortedProcs() {
		if err != nil || (p.status != agentwire.StatusActive && p.status != agentwire.StatusTerminating && p.status != agentwire.StatusTerminated) {
			s.stop(p, reason)
		}
	}
	grace := s.clock.NewTimer(s.cfg.DrainGrace)
	defer grace.Stop()
	hb.Reset(s.interval)
	var afterKill <-chan time.Time // armed once everything left is killed
	s.flush()
	for len(s.procs) > 0 {
		select {
		case ex := <-s.exits:
			s.onExit(ex)
		case <-hb.C():
			if s.taken == nil {
				s.heartbeat(ctx)
			}
			hb.Reset(s.interval)
			s.emit(Event{Kind: EventHeartbeat})
		case <-grace.C():
			for _, p := range s.sortedProcs() {
				if !p.killed {
					s.kill(p, "still running when the drain grace period ended")
				}
			}
			t := s.clock.NewTimer(exitWaitAfterKill)
			defer t.Stop()
			afterKill = t.C()
		case <-afterKill:
			s.log.Error("processes did not exit after SIGKILL; deregistering anyway", "processes", len(s.procs))
			s.flush()
			return s.deregister(ctx)
		}
		s.flush()
	}
	return s.deregister(ctx)
}

// deregister ends the drain: it removes the compute, unless another agent
// runs it now, and then returns s.taken.
func (s *Supervisor) deregister(ctx context.Context) error {
	if s.taken != nil {
		s.flush()
		return s.taken
	}
	if err := s.cfg.Control.DeregisterCompute(ctx, s.cfg.FleetID, s.cfg.ComputeName); err != nil {
		s.log.Error("cannot deregister the compute", "err", err)
		s.emit(Event{Kind: EventDeregistered, Reason: err.Error()})
		s.flush()
		return err
	}
	s.log.Info("compute deregistered")
	s.emit(Event{Kind: EventDeregistered})
	s.flush()
	return nil
}
