package capacity

import (
	"context"
	"fmt"

	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// policyErrorFailures is how many failed attempts of one host make the
// policies of its fleet ERROR: the provisioner keeps failing, so the
// capacity a policy asks for cannot be had.
const policyErrorFailures = 3

// policyProblems says, for each policy of f, why it cannot be evaluated
// now ("" when it can): then its status is ERROR (GameLift: "the scaling
// policy can be in force only when in an ACTIVE status"). A policy cannot
// be evaluated when its fleet is not ACTIVE, when its metric cannot be
// computed (QueueDepth and WaitTime without placement queues), or when the
// provisioner of a location it applies to keeps failing (a host failed
// policyErrorFailures times and has not registered). A location whose
// auto-scaling is stopped does not count, as GameLift leaves a suspended
// policy's status alone.
func (s *Service) policyProblems(ctx context.Context, r store.Reader, f fleet.Fleet, policies []Policy) ([]string, error) {
	fleetProblem, locProblem := "", ""
	if f.Status != gamelift.FleetStatusActive {
		fleetProblem = fmt.Sprintf("fleet %s is %s", f.ID, f.Status)
	}
	for _, loc := range f.Locations {
		c, _, found, err := fleet.GetCapacity(ctx, r, f.ID, loc)
		if err != nil {
			return nil, err
		}
		if !found || c.ScalingStopped || locProblem != "" {
			continue
		}
		for _, h := range c.Pending {
			if h.Failures >= policyErrorFailures {
				locProblem = fmt.Sprintf("the provisioner of %s keeps failing: compute %s failed %d times (%s)", loc, h.ComputeName, h.Failures, h.LastError)
				break
			}
		}
	}
	problems := make([]string, len(policies))
	for i, p := range policies {
		switch {
		case fleetProblem != "":
			problems[i] = fleetProblem
		case s.cfg.Placements == nil && (p.MetricName == "QueueDepth" || p.MetricName == "WaitTime"):
			problems[i] = fmt.Sprintf("metric %s cannot be computed: this control plane places no game sessions through queues", p.MetricName)
		default:
			problems[i] = locProblem
		}
	}
	return problems, nil
}

// settleStatus makes each policy ERROR when it has a problem and ACTIVE
// when it has none, with a fleet event at each change, and marks changed
// the policies it changed. A policy going to ERROR forgets its breaches:
// its evaluation periods count again once it is ACTIVE.
func (s *Service) settleStatus(ctx context.Context, w store.Writer, f fleet.Fleet, policies []Policy, problems []string, changed []bool) error {
	for i := range policies {
		p := &policies[i]
		status, msg := gamelift.ScalingStatusActive, fmt.Sprintf("Scaling policy %s is ACTIVE again: it can be evaluated", p.Name)
		if problems[i] != "" {
			status, msg = gamelift.ScalingStatusError, fmt.Sprintf("Scaling policy %s is ERROR: %s", p.Name, problems[i])
		}
		if p.Status == status {
			continue
		}
		p.Status, changed[i] = status, true
		if status == gamelift.ScalingStatusError {
			p.Breaches = nil
		}
		if err := s.cfg.Fleets.AddEvent(ctx, w, f.ID, "FLEET_SCALING_EVENT", msg); err != nil {
			return err
		}
	}
	return nil
}
