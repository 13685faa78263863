package fleet

import (
	"context"
	"fmt"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// ComputeLoad is a compute of a location with the game sessions it hosts
// (ACTIVATING or ACTIVE) and its processes that have not ended.
type ComputeLoad struct {
	Compute
	Sessions  int
	Processes int
}

// LocationComputes lists the computes of a fleet location with their load.
func LocationComputes(ctx context.Context, r store.Reader, fleetID, location string) ([]ComputeLoad, error) {
	cs, err := store.FindAll[Compute](ctx, r, store.Query{Kind: KindCompute, Key: 2, Value: fleetID + "/" + location})
	if err != nil {
		return nil, err
	}
	sessions, procs := map[string]int{}, map[string]int{}
	for _, st := range liveStates {
		ps, err := store.FindAll[Process](ctx, r, store.Query{Kind: KindProcess, Key: 1, Value: fleetID + "/" + location + "/" + st})
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			procs[p.ComputeName]++
			if st == stateActivating || st == stateBusy {
				sessions[p.ComputeName]++
			}
		}
	}
	out := make([]ComputeLoad, 0, len(cs))
	for _, c := range cs {
		out = append(out, ComputeLoad{Compute: c, Sessions: sessions[c.Name], Processes: procs[c.Name]})
	}
	return out, nil
}

// DrainCompute makes an ACTIVE compute TERMINATING for a scale-in: it gets
// no new game session, its idle processes are told to end (TerminateProcess
// with the termination time its agent allows), and processes hosting game
// sessions are left to end with them (they are not marked draining). It
// reports whether the compute was ACTIVE and is now draining.
func (s *Service) DrainCompute(ctx context.Context, fleetID, computeName, why string) (bool, error) {
	var idle []string
	var c Compute
	drained := false
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var ps []Process
		var versions []int64
		var err error
		c, ps, versions, drained, err = setScaleIn(ctx, w, fleetID, computeName, true)
		if err != nil || !drained {
			return err
		}
		for i, p := range ps {
			// A process hosting a game session is left to finish it: marked
			// draining, the SDK endpoint would tell it to end.
			if p.Status == ProcessTerminated || p.Draining || p.SessionLive {
				continue
			}
			if p.Status == ProcessActive {
				idle = append(idle, p.ID)
			}
			p.Draining = true
			if _, err := PutProcess(ctx, w, p, versions[i]); err != nil {
				return err
			}
		}
		return s.AddEvent(ctx, w, c.FleetID, "FLEET_SCALING_EVENT", fmt.Sprintf("Compute %s in %s is draining: %s; %d idle server processes told to end, game sessions left to finish", c.Name, c.Location, why, len(idle)))
	})
	if err != nil {
		return false, fmt.Errorf("drain compute: %w", err)
	}
	if !drained {
		return false, nil
	}
	if s.cfg.Pusher != nil && len(idle) > 0 {
		at := s.terminationTime(c)
		for _, id := range idle {
			s.cfg.Pusher.TerminateProcess(id, at)
		}
	}
	return true, nil
}

// UndrainCompute cancels a scale-in: a compute DrainCompute made
// TERMINATING, whose host was not released yet, is ACTIVE again, so a
// location whose desired capacity rose keeps it instead of asking for a new
// host. Processes already told to end still end (they stay draining); those
// not yet ready may take game sessions once they are. It reports whether
// the compute was draining for a scale-in and is ACTIVE now.
func (s *Service) UndrainCompute(ctx context.Context, fleetID, computeName, why string) (bool, error) {
	undrained := false
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		c, ps, versions, ok, err := setScaleIn(ctx, w, fleetID, computeName, false)
		if err != nil || !ok {
			return err
		}
		ending := 0
		for i, p := range ps {
			switch {
			case p.Status == ProcessTerminated || !p.Draining:
			case p.Status == ProcessPending:
				// Never told to end: it was not ready when the drain began.
				p.Draining = false
				if _, err := PutProcess(ctx, w, p, versions[i]); err != nil {
					return err
				}
			default:
				ending++
			}
		}
		undrained = true
		return s.AddEvent(ctx, w, c.FleetID, "FLEET_SCALING_EVENT", fmt.Sprintf("Compute %s in %s is ACTIVE again: %s; %d server processes told to end still end", c.Name, c.Location, why, ending))
	})
	if err != nil {
		return false, fmt.Errorf("undrain compute: %w", err)
	}
	return undrained, nil
}

// setScaleIn begins (drain) or cancels a scale-in drain of a compute: an
// ACTIVE compute becomes TERMINATING for a scale-in, or one TERMINATING
// for a scale-in is ACTIVE again. It returns the compute and its processes
// (with their versions) for the caller to mark; ok is false, and nothing
// changed, when the compute was not in the state the change starts from.
func setScaleIn(ctx context.Context, w store.Writer, fleetID, computeName string, drain bool) (c Compute, ps []Process, versions []int64, ok bool, err error) {
	c, version, err := GetCompute(ctx, w, fleetID, computeName)
	if err != nil {
		return c, nil, nil, false, err
	}
	from, to := gamelift.ComputeTerminating, gamelift.ComputeActive
	if drain {
		from, to = to, from
	}
	if c.Status != from || c.ScaleIn == drain {
		return c, nil, nil, false, nil
	}
	c.Status, c.ScaleIn = to, drain
	if _, err := PutCompute(ctx, w, c, version); err != nil {
		return c, nil, nil, false, err
	}
	ps, versions, err = ComputeProcesses(ctx, w, c)
	return c, ps, versions, err == nil, err
}

// RemoveCompute deregisters a compute whose host was released and did not
// deregister itself; its remaining processes end.
func (s *Service) RemoveCompute(ctx context.Context, fleetID, computeName, why string) error {
	return s.cfg.Store.Update(ctx, func(w store.Writer) error {
		it, err := w.Get(ctx, KindCompute, computeID(fleetID, computeName))
		if err != nil {
			return err
		}
		if err := s.dropCompute(ctx, w, it); err != nil {
			return err
		}
		return s.AddEvent(ctx, w, fleetID, "GENERIC_EVENT", fmt.Sprintf("Compute %s deregistered: %s", computeName, why))
	})
}
