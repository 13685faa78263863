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
// (s.taken), or of a fleet deleted (s.gone), is neither told nor
// deregistered: SIGTERM goes to every process, and the rest is the same.
func (s *Supervisor) drain(ctx context.Context, hb clock.Timer) error {
	s.draining = true
	s.log.Info("draining", "processes", len(s.procs), "grace", s.cfg.DrainGrace)
	s.emit(Event{Kind: EventDraining})
	err := s.ended()
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
	switch {
	case s.taken != nil:
		reason = "another agent runs the compute"
	case s.gone != nil:
		reason = "the fleet was deleted"
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
			if s.ended() == nil {
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

// ended is why the compute is no longer this agent's to tell the control
// plane about: another agent runs it (s.taken) or its fleet is gone
// (s.gone); nil otherwise.
func (s *Supervisor) ended() error {
	if s.taken != nil {
		return s.taken
	}
	return s.gone
}

// deregister ends the drain: it removes the compute, unless another agent
// runs it now or its fleet is gone, and then returns why (ended).
func (s *Supervisor) deregister(ctx context.Context) error {
	if err := s.ended(); err != nil {
		s.flush()
		return err
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
