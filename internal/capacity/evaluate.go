package capacity

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// Evaluate evaluates every scaling policy in each location of its fleet
// and changes desired capacities (see the package comment). triggered says
// a placement found no capacity: then only scale-out happens, not where
// hosts are already on their way or the last scale-out's capacity is not
// ready yet (held), and rules whose periods are not all counted act only
// if this one would complete them.
func (s *Service) Evaluate(ctx context.Context, triggered bool) error {
	var policies []Policy
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		var err error
		policies, err = store.FindAll[Policy](ctx, r, store.Query{Kind: KindPolicy, Prefix: true})
		return err
	})
	if err != nil || len(policies) == 0 {
		return err
	}
	byFleet := map[string][]Policy{}
	for _, p := range policies {
		byFleet[p.FleetID] = append(byFleet[p.FleetID], p)
	}
	for _, fleetID := range sortedKeys(byFleet) {
		err := s.cfg.Store.Update(ctx, func(w store.Writer) error { return s.evaluateFleet(ctx, w, fleetID, triggered) })
		if err != nil {
			return fmt.Errorf("evaluate scaling policies of %s: %w", fleetID, err)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// evaluation is one fleet's evaluation, in one transaction: what each of
// its locations reads, and which policies it changed.
type evaluation struct {
	f         fleet.Fleet
	policies  []Policy
	changed   []bool // by policy index: to store
	problems  problems
	waiting   map[FleetLocation]Waiting
	now       time.Time
	triggered bool
}

// evaluateFleet is one fleet's evaluation, in one transaction.
func (s *Service) evaluateFleet(ctx context.Context, w store.Writer, fleetID string, triggered bool) error {
	items, err := w.Find(ctx, store.Query{Kind: KindPolicy, Key: 1, Value: fleetID, Limit: 1000})
	if err != nil {
		return err
	}
	f, _, err := fleet.GetFleet(ctx, w, fleetID)
	if fault.Is(err, fault.NotFound) {
		// The fleet was deleted: its policies go with it.
		for _, it := range items {
			if err := w.Delete(ctx, KindPolicy, it.ID, it.Version); err != nil {
				return err
			}
		}
		return nil
	} else if err != nil {
		return err
	}
	ev := &evaluation{f: f, now: s.cfg.Clock.Now().UTC(), triggered: triggered}
	if ev.policies, err = store.Decode[Policy](items); err != nil {
		return err
	}
	ev.changed = make([]bool, len(ev.policies))
	if s.cfg.Placements != nil {
		if ev.waiting, err = s.cfg.Placements.Waiting(ctx, w, ev.now); err != nil {
			return fmt.Errorf("read the placement backlog: %w", err)
		}
	}
	if ev.problems, err = s.policyProblems(ctx, w, f, ev.policies); err != nil {
		return err
	}
	if err := s.settleStatus(ctx, w, f, ev.policies, ev.problems, ev.changed); err != nil {
		return err
	}
	for _, loc := range f.Locations {
		if err := s.evaluateLocation(ctx, w, ev, loc); err != nil {
			return fmt.Errorf("location %s: %w", loc, err)
		}
	}
	return putChanged(ctx, w, items, ev.policies, ev.changed)
}

// evaluateLocation sets the desired capacity of one location of the fleet
// to what the policies in force there ask, unless the change must wait.
func (s *Service) evaluateLocation(ctx context.Context, w store.Writer, ev *evaluation, loc string) error {
	c, _, found, err := fleet.GetCapacity(ctx, w, ev.f.ID, loc)
	if err != nil {
		return err
	}
	if found && c.ScalingStopped {
		return nil
	}
	st, err := s.cfg.Fleets.LocationStats(ctx, w, ev.f, loc)
	if err != nil {
		return err
	}
	current := c.Desired
	if !found || !c.Set {
		current = st.ActiveComputes
	}
	want, why := s.proposed(ev, loc, current, st)
	if want == current || s.held(ev, c, st, current, want) {
		return nil
	}
	got, err := s.cfg.Fleets.SetDesired(ctx, w, ev.f, loc, want, why)
	if err != nil {
		return err
	}
	if got > current {
		s.metrics.scalings.WithLabelValues("out").Inc()
	} else if got < current {
		s.metrics.scalings.WithLabelValues("in").Inc()
	}
	return nil
}

// proposed is the desired capacity the policies in force in loc ask for,
// and why: the largest scale-out any of them asks, else the smallest
// scale-in, so that the policy asking for the most capacity wins.
func (s *Service) proposed(ev *evaluation, loc string, current int, st fleet.Stats) (int, string) {
	waiting := ev.waiting[FleetLocation{FleetID: ev.f.ID, Location: loc}]
	m := metricValues(ev.f, st, waiting, ev.now)
	want, why := current, ""
	for i := range ev.policies {
		p := &ev.policies[i]
		if ev.problems.at(i, loc) != "" {
			continue // not in force here
		}
		d, ok, reason := s.propose(p, loc, m, current, ev.f, st, waiting.Count, ev.triggered)
		if p.Breaches != nil || ok {
			ev.changed[i] = true
		}
		if !ok {
			continue
		}
		switch {
		case d > current && d > want:
			want, why = d, reason
		case d < current && want <= current && (want == current || d > want):
			want, why = d, reason
		}
	}
	return want, why
}

// held says whether changing a location's desired capacity from current
// to want must wait. Scale-in waits ScaleInCooldown after any change, and
// a trigger never scales in. A triggered scale-out waits while hosts are
// on their way, and, for up to one EvaluationInterval after the last
// scale-out, until the capacity it added is ready: placements without
// capacity trigger an evaluation every ten seconds, sooner than a host
// registers and starts its server processes, so a rule such as
// "QueueDepth > 0 → +1" would otherwise add a compute at each trigger for
// the same queued players. The interval bounds the wait for capacity that
// never becomes ready; an evaluation on the interval, as GameLift's each
// minute, scales out at once.
func (s *Service) held(ev *evaluation, c fleet.Capacity, st fleet.Stats, current, want int) bool {
	since := func(t time.Time) time.Duration { return ev.now.Sub(t) }
	if want < current {
		return ev.triggered || since(c.ScaledOut) < s.cfg.ScaleInCooldown || since(c.ScaledIn) < s.cfg.ScaleInCooldown
	}
	if !ev.triggered {
		return false
	}
	return len(c.Pending) > 0 || (since(c.ScaledOut) < s.cfg.EvaluationInterval && !ready(ev.f, st, current))
}

// ready says whether a location's desired computes all serve: as many of
// its server processes are ready (idle, or hosting a game session) as
// desired computes run.
func ready(f fleet.Fleet, st fleet.Stats, desired int) bool {
	return st.IdleProcesses+st.Activating+st.Active >= desired*processesPerCompute(f)
}

// putChanged stores the policies an evaluation changed (their status or
// breaches) over the records they were read from.
func putChanged(ctx context.Context, w store.Writer, items []store.Item, policies []Policy, changed []bool) error {
	for i, p := range policies {
		if changed[i] {
			if _, err := w.Put(ctx, store.Record{Kind: KindPolicy, ID: items[i].ID, Doc: store.MustJSON(p), Keys: store.Keys{p.FleetID}, Version: items[i].Version}); err != nil {
				return err
			}
		}
	}
	return nil
}

// propose is what one policy asks of a location: a desired count, whether
// it asks anything, and why.
func (s *Service) propose(p *Policy, loc string, m map[string]float64, current int, f fleet.Fleet, st fleet.Stats, queued int, triggered bool) (int, bool, string) {
	if p.PolicyType == gamelift.PolicyTargetBased {
		d := targetCapacity(*p.TargetValue, st, queued, processesPerCompute(f))
		return d, true, fmt.Sprintf("policy %s keeps PercentAvailableGameSessions at %g (now %.1f)", p.Name, *p.TargetValue, m["PercentAvailableGameSessions"])
	}
	v := m[p.MetricName]
	breach := compare(v, p.ComparisonOperator, *p.Threshold)
	n := 0
	if p.Breaches != nil {
		n = p.Breaches[loc]
	}
	if !breach {
		if !triggered && n != 0 {
			delete(p.Breaches, loc)
		}
		return 0, false, ""
	}
	n++
	if n < int(*p.EvaluationPeriods) {
		if !triggered {
			if p.Breaches == nil {
				p.Breaches = map[string]int{}
			}
			p.Breaches[loc] = n
		}
		return 0, false, ""
	}
	delete(p.Breaches, loc)
	if len(p.Breaches) == 0 {
		p.Breaches = nil
	}
	adj := int(*p.Adjustment)
	d := current + adj
	switch p.AdjustmentType {
	case gamelift.AdjustExactCapacity:
		d = adj
	case gamelift.AdjustPercentChangeInCapacity:
		delta := int(math.Round(float64(current) * float64(adj) / 100))
		if delta == 0 && adj != 0 {
			delta = adj / abs(adj)
		}
		d = current + delta
	}
	return max(d, 0), true, fmt.Sprintf("policy %s: %s %s %g (%g) for %d evaluations", p.Name, p.MetricName, p.ComparisonOperator, *p.Threshold, v, *p.EvaluationPeriods)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func compare(v float64, op string, threshold float64) bool {
	switch op {
	case gamelift.CompareGreaterOrEqual:
		return v >= threshold
	case gamelift.CompareGreater:
		return v > threshold
	case gamelift.CompareLess:
		return v < threshold
	case gamelift.CompareLessOrEqual:
		return v <= threshold
	}
	return false
}

// processesPerCompute is how many server processes the runtime
// configuration runs on each compute (at least 1).
func processesPerCompute(f fleet.Fleet) int {
	n := 0
	for _, sp := range f.Runtime.ServerProcesses {
		if sp.ConcurrentExecutions != nil {
			n += int(*sp.ConcurrentExecutions)
		}
	}
	return max(n, 1)
}

// targetCapacity is the fewest computes with which the share of available
// game-session slots would be at least target percent, counting the
// placements waiting for the location (queued) as game sessions to host. It is worked
// out in floating point and capped before it becomes an int: a target just
// below 100 makes it astronomically large, and converting a float beyond
// int's range yields a negative number on common platforms, which would
// scale the location in rather than out. SetDesired holds the result to the
// location's maximum.
func targetCapacity(target float64, st fleet.Stats, queued, perCompute int) int {
	demand := float64(st.Activating + st.Active + queued)
	slots := math.Ceil(demand / (1 - target/100))
	if target > 0 && slots == demand {
		slots++ // a target above zero keeps at least one slot free
	}
	return int(min(math.Ceil(slots/float64(perCompute)), math.MaxInt32))
}

// metricValues are GameLift's scaling metrics for one location now;
// waiting are the placements whose first choice it is.
func metricValues(f fleet.Fleet, st fleet.Stats, waiting Waiting, now time.Time) map[string]float64 {
	percent := func(part, whole int) float64 {
		if whole == 0 {
			return 0
		}
		return 100 * float64(part) / float64(whole)
	}
	activatable := st.IdleProcesses
	if m := f.Runtime.MaxConcurrentGameSessionActivations; m != nil && *m > 0 {
		activatable = min(activatable, max(st.ActiveComputes*int(*m)-st.Activating, 0))
	}
	wait := 0.0
	if waiting.Count > 0 {
		wait = now.Sub(waiting.Oldest).Seconds()
	}
	return map[string]float64{
		"ActivatingGameSessions":            float64(st.Activating),
		"ActiveGameSessions":                float64(st.Active),
		"ActiveInstances":                   float64(st.ActiveComputes - st.IdleComputes),
		"AvailableGameSessions":             float64(st.IdleProcesses),
		"AvailablePlayerSessions":           float64(max(st.MaxPlayers-st.Players, 0)),
		"CurrentPlayerSessions":             float64(st.Players),
		"IdleInstances":                     float64(st.IdleComputes),
		"PercentAvailableGameSessions":      percent(st.IdleProcesses, st.IdleProcesses+st.Activating+st.Active),
		"PercentIdleInstances":              percent(st.IdleComputes, st.ActiveComputes),
		"QueueDepth":                        float64(waiting.Count),
		"WaitTime":                          wait,
		"ConcurrentActivatableGameSessions": float64(activatable),
	}
}
