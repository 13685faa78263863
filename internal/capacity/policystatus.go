package capacity

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// policyErrorFailures is how many failed attempts of one host make the
// policies of its fleet ERROR and out of force in the host's location: the
// provisioner keeps failing, so the capacity a policy asks for there
// cannot be had.
const policyErrorFailures = 3

// problems say why policies cannot be evaluated (GameLift: "the scaling
// policy can be in force only when in an ACTIVE status"). A problem of a
// policy keeps it out of force everywhere; a problem of a location keeps
// every policy out of force there alone. A location is one of several,
// each with its own provisioner: one whose provisioner is out of hosts is
// exactly when the others must scale out to take its players, so its
// problem must not hold them back.
type problems struct {
	policy   []string          // by policy index
	location map[string]string // by location
}

// at is why policy i cannot be evaluated in location ("" when it can).
func (pr problems) at(i int, location string) string {
	return cmp.Or(pr.policy[i], pr.location[location])
}

// of is why policy i is ERROR ("" when it is ACTIVE): its own problem, or
// those of the locations it applies to. It is ERROR while any location it
// applies to fails, so DescribeScalingPolicies and the fleet's events show
// that it is not in force everywhere.
func (pr problems) of(i int) string {
	if pr.policy[i] != "" {
		return pr.policy[i]
	}
	var msgs []string
	for _, loc := range slices.Sorted(maps.Keys(pr.location)) {
		msgs = append(msgs, pr.location[loc])
	}
	return strings.Join(msgs, "; ")
}

// policyProblems says why the policies of f cannot be evaluated: a policy
// cannot be when its fleet is not ACTIVE or its metric cannot be computed
// (QueueDepth and WaitTime without placement queues); no policy can be in
// a location whose provisioner keeps failing (a host failed
// policyErrorFailures times and has not registered). A location whose
// auto-scaling is stopped does not count, as GameLift leaves a suspended
// policy's status alone.
func (s *Service) policyProblems(ctx context.Context, r store.Reader, f fleet.Fleet, policies []Policy) (problems, error) {
	pr := problems{policy: make([]string, len(policies)), location: map[string]string{}}
	for _, loc := range f.Locations {
		c, _, found, err := fleet.GetCapacity(ctx, r, f.ID, loc)
		if err != nil {
			return pr, fmt.Errorf("read the capacity of %s: %w", loc, err)
		}
		if !found || c.ScalingStopped {
			continue
		}
		for _, h := range c.Pending {
			if h.Failures >= policyErrorFailures {
				pr.location[loc] = fmt.Sprintf("the provisioner of %s keeps failing: compute %s failed %d times (%s)", loc, h.ComputeName, h.Failures, h.LastError)
				break
			}
		}
	}
	for i, p := range policies {
		switch {
		case f.Status != gamelift.FleetStatusActive:
			pr.policy[i] = fmt.Sprintf("fleet %s is %s", f.ID, f.Status)
		case s.cfg.Placements == nil && (p.MetricName == "QueueDepth" || p.MetricName == "WaitTime"):
			pr.policy[i] = fmt.Sprintf("metric %s cannot be computed: this control plane places no game sessions through queues", p.MetricName)
		}
	}
	return pr, nil
}

// settleStatus makes each policy ERROR when it has a problem and ACTIVE
// when it has none, with a fleet event at each change, and marks changed
// the policies it changed. A policy forgets its breaches where it is not
// in force: its evaluation periods count again once it is.
func (s *Service) settleStatus(ctx context.Context, w store.Writer, f fleet.Fleet, policies []Policy, pr problems, changed []bool) error {
	for i := range policies {
		p := &policies[i]
		for loc := range p.Breaches {
			if pr.at(i, loc) != "" {
				delete(p.Breaches, loc)
				changed[i] = true
			}
		}
		if len(p.Breaches) == 0 {
			p.Breaches = nil
		}
		status, msg := gamelift.ScalingStatusActive, fmt.Sprintf("Scaling policy %s is ACTIVE again: it can be evaluated", p.Name)
		if why := pr.of(i); why != "" {
			status, msg = gamelift.ScalingStatusError, fmt.Sprintf("Scaling policy %s is ERROR: %s", p.Name, why)
		}
		if p.Status == status {
			continue
		}
		p.Status, changed[i] = status, true
		if err := s.cfg.Fleets.AddEvent(ctx, w, f.ID, "FLEET_SCALING_EVENT", msg); err != nil {
			return fmt.Errorf("record scaling policy %s %s: %w", p.Name, status, err)
		}
	}
	return nil
}
