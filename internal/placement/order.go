package placement

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// Candidate is a fleet location a placement may go to, with its sort keys.
type Candidate struct {
	FleetID     string
	Location    string
	Destination int     // index in the queue's destinations
	Cost        float64 // AnywhereConfiguration.Cost
	// Latency is the players' average latency; MaxLatency the worst one.
	// HasLatency is false when some player reported none for the location.
	Latency, MaxLatency float64
	HasLatency          bool
}

// candidates lists the queue's fleet locations (candidates, steps 1 and 2 of docs/control-api.md, "Queue placement"), in
// destination order, without duplicates.
func (s *Service) candidates(ctx context.Context, r store.Reader, q Queue) ([]Candidate, error) {
	return Candidates(ctx, r, s.cfg.Fleets, s.cfg.ARNs, q)
}

// Candidates is the placer's list of the queue's candidates, for a reader
// outside this package (the capacity service's backlog) that must order
// them as the placer does (Order) and so needs the same list. A
// destination that cannot be read is skipped, as the placer skips it.
func Candidates(ctx context.Context, r store.Reader, fleets *fleet.Service, arns gamelift.ARNBuilder, q Queue) ([]Candidate, error) {
	var out []Candidate
	seen := map[[2]string]bool{}
	for i, dest := range q.Destinations {
		typ, id, ok := arns.Parse(dest)
		if !ok {
			continue
		}
		fleetID := id
		if typ == gamelift.ResourceAlias {
			fid, err := fleets.Resolve(ctx, r, "", dest)
			if err != nil {
				continue // a TERMINAL or deleted alias is skipped
			}
			fleetID = fid
		}
		f, _, err := fleet.GetFleet(ctx, r, fleetID)
		if err != nil || f.Status != gamelift.FleetStatusActive {
			continue
		}
		cost, _ := strconv.ParseFloat(f.Cost, 64)
		for _, loc := range f.Locations {
			if len(q.AllowedLocations) > 0 && !slices.Contains(q.AllowedLocations, loc) {
				continue
			}
			k := [2]string{f.ID, loc}
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, Candidate{FleetID: f.ID, Location: loc, Destination: i, Cost: cost})
		}
	}
	return out, nil
}

// latencyCap is the cap of the latency policy in force at age (latency policies), and
// how long until the next policy takes over (0: none will).
func latencyCap(policies []gamelift.PlayerLatencyPolicy, age time.Duration) (limit float64, capped bool, next time.Duration) {
	ps := slices.Clone(policies)
	slices.SortStableFunc(ps, func(a, b gamelift.PlayerLatencyPolicy) int {
		return cmp.Compare(val(a.MaximumIndividualPlayerLatencyMilliseconds), val(b.MaximumIndividualPlayerLatencyMilliseconds))
	})
	var start time.Duration
	for _, p := range ps {
		if p.PolicyDurationSeconds == nil || *p.PolicyDurationSeconds == 0 {
			return float64(val(p.MaximumIndividualPlayerLatencyMilliseconds)), true, 0
		}
		end := start + time.Duration(*p.PolicyDurationSeconds)*time.Second
		if age < end {
			return float64(val(p.MaximumIndividualPlayerLatencyMilliseconds)), true, end - age
		}
		start = end
	}
	return 0, false, 0
}

func val(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// Order filters candidates by the latency policy in force at age and sorts
// them by the queue's priority order (and the placement's override): the
// pure heart of placement: latency policies and order. It also returns how long until a
// looser latency policy applies (0: never).
func Order(cands []Candidate, q Queue, latencies []gamelift.PlayerLatency, override *gamelift.PriorityConfigurationOverride, age time.Duration) ([]Candidate, time.Duration) {
	withLatency := len(latencies) > 0
	var next time.Duration
	out := slices.Clone(cands)
	if withLatency {
		byPlayer := map[string]map[string]float64{}
		for _, l := range latencies {
			m := byPlayer[l.PlayerId]
			if m == nil {
				m = map[string]float64{}
				byPlayer[l.PlayerId] = m
			}
			if l.LatencyInMilliseconds != nil {
				m[l.RegionIdentifier] = float64(*l.LatencyInMilliseconds)
			}
		}
		for i := range out {
			c := &out[i]
			c.HasLatency, c.Latency, c.MaxLatency = true, 0, 0
			for _, m := range byPlayer {
				ms, ok := m[c.Location]
				if !ok {
					c.HasLatency = false
					break
				}
				c.Latency += ms
				c.MaxLatency = max(c.MaxLatency, ms)
			}
			if c.HasLatency {
				c.Latency /= float64(len(byPlayer))
			} else {
				c.Latency, c.MaxLatency = math.Inf(1), math.Inf(1)
			}
		}
		limit, capped, n := latencyCap(q.Policies, age)
		next = n
		if capped {
			out = slices.DeleteFunc(out, func(c Candidate) bool { return !c.HasLatency || c.MaxLatency > limit })
		}
	}
	order := q.PriorityOrder
	if len(order) == 0 && !withLatency {
		order = []string{gamelift.PriorityDestination, gamelift.PriorityLocation}
	} else {
		for _, t := range []string{gamelift.PriorityLatency, gamelift.PriorityCost, gamelift.PriorityDestination, gamelift.PriorityLocation} {
			if !slices.Contains(order, t) {
				order = append(slices.Clip(order), t)
			}
		}
	}
	locRank := func(loc string) int {
		if i := slices.Index(q.LocationOrder, loc); i >= 0 {
			return i
		}
		return len(q.LocationOrder)
	}
	compare := func(a, b Candidate) int {
		for _, t := range order {
			var c int
			switch t {
			case gamelift.PriorityLatency:
				c = cmp.Compare(a.Latency, b.Latency)
			case gamelift.PriorityCost:
				c = cmp.Compare(a.Cost, b.Cost)
			case gamelift.PriorityDestination:
				c = cmp.Compare(a.Destination, b.Destination)
			case gamelift.PriorityLocation:
				if c = cmp.Compare(locRank(a.Location), locRank(b.Location)); c == 0 {
					c = cmp.Compare(a.Location, b.Location)
				}
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Or(cmp.Compare(a.Destination, b.Destination), cmp.Compare(a.Location, b.Location))
	}
	slices.SortStableFunc(out, compare)
	if override != nil {
		rank := func(c Candidate) int {
			if i := slices.Index(override.LocationOrder, c.Location); i >= 0 {
				return i
			}
			return len(override.LocationOrder)
		}
		slices.SortStableFunc(out, func(a, b Candidate) int { return cmp.Compare(rank(a), rank(b)) })
		if override.PlacementFallbackStrategy == gamelift.FallbackNone {
			out = slices.DeleteFunc(out, func(c Candidate) bool { return rank(c) == len(override.LocationOrder) })
		}
	}
	return out, next
}

// Locations returns the locations where the named queues can place a game
// session now (their candidates), so a player's latency to any other
// location, which can never be used, is refused when the ticket starts.
func (s *Service) Locations(ctx context.Context, r store.Reader, queueArns []string) (map[string]bool, error) {
	known := map[string]bool{}
	for _, arn := range queueArns {
		q, _, err := s.getQueue(ctx, r, arn)
		if fault.Is(err, fault.NotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		cands, err := s.candidates(ctx, r, q)
		if err != nil {
			return nil, err
		}
		for _, c := range cands {
			known[c.Location] = true
		}
	}
	return known, nil
}
