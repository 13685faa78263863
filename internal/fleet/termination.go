package fleet

import (
	"context"
	"time"

	"github.com/musterhq/muster/internal/store"
)

// DefaultTerminateGrace is how long a process told to end has when its
// compute's agent never reported a drain grace (a compute registered by a
// studio's own tooling): GameLift's five minutes.
const DefaultTerminateGrace = 5 * time.Minute

// terminationTime is the TerminationTime a process of c is given when told
// to end: as long as its agent really waits before stopping it (the drain
// grace its heartbeat reports), else the configured TerminateGrace.
func (s *Service) terminationTime(c Compute) time.Time {
	grace := s.cfg.TerminateGrace
	if c.DrainGrace > 0 {
		grace = c.DrainGrace
	}
	return s.cfg.Clock.Now().Add(grace)
}

// TerminationTime is the TerminationTime of a TerminateProcess to the
// process: now plus the drain grace its compute's agent reports.
func (s *Service) TerminationTime(ctx context.Context, r store.Reader, processID string) (time.Time, error) {
	p, _, err := GetProcess(ctx, r, processID)
	if err != nil {
		return time.Time{}, err
	}
	return s.ProcessTerminationTime(ctx, r, p), nil
}

// ProcessTerminationTime is TerminationTime for a process already read.
func (s *Service) ProcessTerminationTime(ctx context.Context, r store.Reader, p Process) time.Time {
	c, _, err := GetCompute(ctx, r, p.FleetID, p.ComputeName)
	if err != nil {
		// Its compute is gone: the process is ending anyway.
		return s.cfg.Clock.Now().Add(s.cfg.TerminateGrace)
	}
	return s.terminationTime(c)
}

// TellToEnd marks a process as told to end (TerminateGameSession, a game
// session that was never activated): its agent's heartbeat reply says
// TERMINATING, and the agent stops it once its drain grace has passed. It
// returns the TerminationTime to push with TerminateProcess.
func (s *Service) TellToEnd(ctx context.Context, w store.Writer, processID string) (time.Time, error) {
	p, version, err := GetProcess(ctx, w, processID)
	if err != nil {
		return time.Time{}, err
	}
	if p.Status != ProcessTerminated && !p.Draining {
		p.Draining = true
		if _, err := PutProcess(ctx, w, p, version); err != nil {
			return time.Time{}, err
		}
	}
	return s.TerminationTime(ctx, w, processID)
}
