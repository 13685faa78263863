package fleet

import (
	"context"
	"fmt"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
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

func (s *Service) capacity(f Fleet, location string, u usage) gamelift.FleetCapacity {
	return gamelift.FleetCapacity{FleetId: f.ID, FleetArn: f.ARN, Location: location, InstanceCounts: &gamelift.EC2InstanceCounts{
		DESIRED: itoa32(u.computesActive), MINIMUM: itoa32(0), MAXIMUM: itoa32(u.computesActive + u.computesTerminating),
		PENDING: itoa32(0), ACTIVE: itoa32(u.computesActive), IDLE: itoa32(u.computesIdle), TERMINATING: itoa32(u.computesTerminating)}}
}

// fleetUsage adds up a fleet's locations.
func (s *Service) fleetUsage(ctx context.Context, r store.Reader, f Fleet) (usage, error) {
	var total usage
	for _, l := range f.Locations {
		u, err := s.usage(ctx, r, f, l)
		if err != nil {
			return total, err
		}
		total.computesActive += u.computesActive
		total.computesIdle += u.computesIdle
		total.computesTerminating += u.computesTerminating
		total.processesActive += u.processesActive
		total.sessions += u.sessions
		total.players += u.players
		total.maxPlayers += u.maxPlayers
	}
	return total, nil
}

// listUsage pages through fleets as DescribeFleetAttributes does and adds
// up each one's usage, in one read.
func (s *Service) listUsage(ctx context.Context, ids []string, limit *int32, token string) ([]Fleet, []usage, string, error) {
	fleets, next, err := s.listFleets(ctx, ids, limit, token)
	if err != nil {
		return nil, nil, "", err
	}
	usages := make([]usage, len(fleets))
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		for i, f := range fleets {
			if usages[i], err = s.fleetUsage(ctx, r, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, "", fmt.Errorf("fleet usage: %w", err)
	}
	return fleets, usages, next, nil
}

// DescribeFleetCapacity reports, for Anywhere fleets, counts of computes:
// ACTIVE registered and active, IDLE of those hosting no game session,
// TERMINATING draining.
func (s *Service) DescribeFleetCapacity(ctx context.Context, in *gamelift.DescribeFleetCapacityInput) (*gamelift.DescribeFleetCapacityOutput, error) {
	fleets, usages, next, err := s.listUsage(ctx, in.FleetIds, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeFleetCapacityOutput{FleetCapacity: make([]gamelift.FleetCapacity, 0, len(fleets)), NextToken: next}
	for i, f := range fleets {
		out.FleetCapacity = append(out.FleetCapacity, s.capacity(f, "", usages[i]))
	}
	return out, nil
}

// DescribeFleetLocationCapacity is DescribeFleetCapacity for one location.
func (s *Service) DescribeFleetLocationCapacity(ctx context.Context, in *gamelift.DescribeFleetLocationCapacityInput) (*gamelift.DescribeFleetLocationCapacityOutput, error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	var v fault.Validator
	s.cfg.Formats.Check(&v, "FleetId", "FleetIdOrArn", in.FleetId)
	s.cfg.Formats.Check(&v, "Location", "LocationStringModel", in.Location)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var fc gamelift.FleetCapacity
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		f, _, err := GetFleet(ctx, r, s.FleetID(in.FleetId))
		if err != nil {
			return err
		}
		if !f.HasLocation(in.Location) {
			return fault.New(fault.NotFound, "Location: fleet %s has no location %s", f.ID, in.Location)
		}
		u, err := s.usage(ctx, r, f, in.Location)
		fc = s.capacity(f, in.Location, u)
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
	fleets, usages, next, err := s.listUsage(ctx, in.FleetIds, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeFleetUtilizationOutput{FleetUtilization: make([]gamelift.FleetUtilization, 0, len(fleets)), NextToken: next}
	for i, f := range fleets {
		u := usages[i]
		out.FleetUtilization = append(out.FleetUtilization, gamelift.FleetUtilization{FleetId: f.ID, FleetArn: f.ARN,
			ActiveServerProcessCount: itoa32(u.processesActive), ActiveGameSessionCount: itoa32(u.sessions),
			CurrentPlayerSessionCount: itoa32(u.players), MaximumPlayerSessionCount: itoa32(u.maxPlayers)})
	}
	return out, nil
}

// itoa32 returns a pointer to an int32 count.
func itoa32(n int) *int32 { v := int32(n); return &v }
