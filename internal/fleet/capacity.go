package fleet

import (
	"context"
	"errors"
	"fmt"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

type usage struct {
	computesActive, computesIdle, computesTerminating int
	processesActive, sessions, players, maxPlayers    int
}

func (s *Service) usage(ctx context.Context, r store.Reader, f Fleet, location string) (usage, error) {
	var u usage
	cs, err := store.FindAll[Compute](ctx, r, store.Query{Kind: KindCompute, Key: 2, Value: f.ID + "/" + location})
	if err != nil {
		return u, err
	}
	busyByCompute := map[string]bool{}
	for _, st := range []string{stateIdle, stateActivating, stateBusy, stateUsed, stateUnavailable} {
		ps, err := store.FindAll[Process](ctx, r, store.Query{Kind: KindProcess, Key: 1, Value: f.ID + "/" + location + "/" + st})
		if err != nil {
			return u, err
		}
		u.processesActive += len(ps)
		if st == stateBusy || st == stateActivating {
			u.sessions += len(ps)
			for _, p := range ps {
				busyByCompute[p.ComputeName] = true
			}
		}
	}
	for _, c := range cs {
		switch c.Status {
		case gamelift.ComputeActive:
			u.computesActive++
			if !busyByCompute[c.Name] {
				u.computesIdle++
			}
		case gamelift.ComputeTerminating:
			u.computesTerminating++
		}
	}
	if s.sessions != nil {
		u.players, u.maxPlayers, err = s.sessions.SessionCounts(ctx, r, f.ID, location)
	}
	return u, err
}

// counts are a location's (or, added up, a fleet's) instance counts.
type counts struct{ desired, min, max, pending, active, idle, terminating int }

func (c counts) wire() *gamelift.EC2InstanceCounts {
	return &gamelift.EC2InstanceCounts{DESIRED: itoa32(c.desired), MINIMUM: itoa32(c.min), MAXIMUM: itoa32(c.max),
		PENDING: itoa32(c.pending), ACTIVE: itoa32(c.active), IDLE: itoa32(c.idle), TERMINATING: itoa32(c.terminating)}
}

func (c counts) plus(o counts) counts {
	return counts{c.desired + o.desired, c.min + o.min, c.max + o.max, c.pending + o.pending, c.active + o.active, c.idle + o.idle, c.terminating + o.terminating}
}

// locationCounts reads a location's usage and capacity record: DESIRED,
// MINIMUM and MAXIMUM as set (or the defaults of a location never set),
// PENDING hosts asked of its provisioner and not registered yet, ACTIVE
// registered active computes, IDLE those hosting no game session,
// TERMINATING draining ones.
func (s *Service) locationCounts(ctx context.Context, r store.Reader, f Fleet, location string) (counts, usage, error) {
	u, err := s.usage(ctx, r, f, location)
	if err != nil {
		return counts{}, u, err
	}
	c, _, found, err := GetCapacity(ctx, r, f.ID, location)
	if err != nil {
		return counts{}, u, err
	}
	if !found || !c.Set {
		c = unsetCapacity(f.ID, location, u)
	}
	pending := 0
	for _, h := range c.Pending {
		if _, err := r.Get(ctx, KindCompute, computeID(f.ID, h.ComputeName)); errors.Is(err, store.ErrNotFound) {
			pending++ // registered hosts are ACTIVE, even before the next reconcile notes it
		} else if err != nil {
			return counts{}, u, err
		}
	}
	return counts{desired: c.Desired, min: c.Min, max: c.Max, pending: pending, active: u.computesActive,
		idle: u.computesIdle, terminating: u.computesTerminating}, u, nil
}

// fleetCounts adds up a fleet's locations.
func (s *Service) fleetCounts(ctx context.Context, r store.Reader, f Fleet) (counts, usage, error) {
	var total counts
	var tu usage
	for _, l := range f.Locations {
		c, u, err := s.locationCounts(ctx, r, f, l)
		if err != nil {
			return total, tu, err
		}
		total = total.plus(c)
		tu.computesActive += u.computesActive
		tu.computesIdle += u.computesIdle
		tu.computesTerminating += u.computesTerminating
		tu.processesActive += u.processesActive
		tu.sessions += u.sessions
		tu.players += u.players
		tu.maxPlayers += u.maxPlayers
	}
	return total, tu, nil
}

// listUsage pages through fleets as DescribeFleetAttributes does and adds
// up each one's counts and usage, in one read.
func (s *Service) listUsage(ctx context.Context, ids []string, limit *int32, token string) ([]Fleet, []counts, []usage, string, error) {
	fleets, next, err := s.listFleets(ctx, ids, limit, token)
	if err != nil {
		return nil, nil, nil, "", err
	}
	cs := make([]counts, len(fleets))
	usages := make([]usage, len(fleets))
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		for i, f := range fleets {
			if cs[i], usages[i], err = s.fleetCounts(ctx, r, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, "", fmt.Errorf("fleet usage: %w", err)
	}
	return fleets, cs, usages, next, nil
}

// DescribeFleetCapacity reports, for Anywhere fleets, counts of computes:
// ACTIVE registered and active, IDLE of those hosting no game session,
// TERMINATING draining.
func (s *Service) DescribeFleetCapacity(ctx context.Context, in *gamelift.DescribeFleetCapacityInput) (*gamelift.DescribeFleetCapacityOutput, error) {
	fleets, cs, _, next, err := s.listUsage(ctx, in.FleetIds, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeFleetCapacityOutput{FleetCapacity: make([]gamelift.FleetCapacity, 0, len(fleets)), NextToken: next}
	for i, f := range fleets {
		out.FleetCapacity = append(out.FleetCapacity, gamelift.FleetCapacity{FleetId: f.ID, FleetArn: f.ARN, InstanceCounts: cs[i].wire()})
	}
	return out, nil
}

// viewFleetLocation is what the per-location reads share: an operator
// reads, the fleet id and location are well formed, and fn runs in one
// read transaction with a fleet that has that location.
func (s *Service) viewFleetLocation(ctx context.Context, fleetID, location string, fn func(store.Reader, Fleet) error) error {
	if err := service.Authorize(ctx, false, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", fleetID)
		s.cfg.Formats.Check(v, "Location", "LocationStringModel", location)
	}); err != nil {
		return err
	}
	return s.cfg.Store.View(ctx, func(r store.Reader) error {
		f, _, err := GetFleet(ctx, r, s.FleetID(fleetID))
		if err != nil {
			return err
		}
		if !f.HasLocation(location) {
			return fault.New(fault.NotFound, "Location: fleet %s has no location %s", f.ID, location)
		}
		return fn(r, f)
	})
}

// DescribeFleetLocationCapacity is DescribeFleetCapacity for one location.
func (s *Service) DescribeFleetLocationCapacity(ctx context.Context, in *gamelift.DescribeFleetLocationCapacityInput) (*gamelift.DescribeFleetLocationCapacityOutput, error) {
	var fc gamelift.FleetCapacity
	err := s.viewFleetLocation(ctx, in.FleetId, in.Location, func(r store.Reader, f Fleet) error {
		c, _, err := s.locationCounts(ctx, r, f, in.Location)
		fc = gamelift.FleetCapacity{FleetId: f.ID, FleetArn: f.ARN, Location: in.Location, InstanceCounts: c.wire()}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe fleet location capacity: %w", err)
	}
	return &gamelift.DescribeFleetLocationCapacityOutput{FleetCapacity: &fc}, nil
}

// DescribeFleetUtilization reports active processes, live game sessions
// and player sessions (reserved + active) of each fleet.
func (s *Service) DescribeFleetUtilization(ctx context.Context, in *gamelift.DescribeFleetUtilizationInput) (*gamelift.DescribeFleetUtilizationOutput, error) {
	fleets, _, usages, next, err := s.listUsage(ctx, in.FleetIds, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeFleetUtilizationOutput{FleetUtilization: make([]gamelift.FleetUtilization, 0, len(fleets)), NextToken: next}
	for i, f := range fleets {
		out.FleetUtilization = append(out.FleetUtilization, utilization(f, "", usages[i]))
	}
	return out, nil
}

func utilization(f Fleet, location string, u usage) gamelift.FleetUtilization {
	return gamelift.FleetUtilization{FleetId: f.ID, FleetArn: f.ARN, Location: location,
		ActiveServerProcessCount: itoa32(u.processesActive), ActiveGameSessionCount: itoa32(u.sessions),
		CurrentPlayerSessionCount: itoa32(u.players), MaximumPlayerSessionCount: itoa32(u.maxPlayers)}
}

// DescribeFleetLocationUtilization is DescribeFleetUtilization for one
// location.
func (s *Service) DescribeFleetLocationUtilization(ctx context.Context, in *gamelift.DescribeFleetLocationUtilizationInput) (*gamelift.DescribeFleetLocationUtilizationOutput, error) {
	var fu gamelift.FleetUtilization
	err := s.viewFleetLocation(ctx, in.FleetId, in.Location, func(r store.Reader, f Fleet) error {
		u, err := s.usage(ctx, r, f, in.Location)
		fu = utilization(f, in.Location, u)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe fleet location utilization: %w", err)
	}
	return &gamelift.DescribeFleetLocationUtilizationOutput{FleetUtilization: &fu}, nil
}

// itoa32 returns a pointer to an int32 count.
func itoa32(n int) *int32 { v := int32(n); return &v }

// Stats are what scaling metrics are computed from, for one location.
type Stats struct {
	// ActiveComputes are ACTIVE computes; IdleComputes those hosting no
	// game session.
	ActiveComputes, IdleComputes int
	// IdleProcesses can take a game session now; Activating and Active
	// count game sessions by status.
	IdleProcesses, Activating, Active int
	// Players and MaxPlayers are current and maximum player sessions of
	// live game sessions.
	Players, MaxPlayers int
}

// LocationStats reads a location's Stats.
func (s *Service) LocationStats(ctx context.Context, r store.Reader, f Fleet, location string) (Stats, error) {
	u, err := s.usage(ctx, r, f, location)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{ActiveComputes: u.computesActive, IdleComputes: u.computesIdle, Players: u.players, MaxPlayers: u.maxPlayers}
	for state, n := range map[string]*int{stateIdle: &st.IdleProcesses, stateActivating: &st.Activating, stateBusy: &st.Active} {
		items, err := r.Find(ctx, store.Query{Kind: KindProcess, Key: 1, Value: f.ID + "/" + location + "/" + state, Limit: 100000, NoDocs: true})
		if err != nil {
			return st, err
		}
		*n = len(items)
	}
	return st, nil
}
