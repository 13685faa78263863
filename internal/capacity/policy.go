package capacity

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// KindPolicy is a scaling policy: id <fleetId>/<name>; K1 fleet id.
const KindPolicy = "scalingpolicy"

// Policy is a scaling policy as stored. Breaches counts, by location, the
// evaluations in a row whose metric compared with the threshold.
type Policy struct {
	FleetID            string         `json:"fleetId"`
	FleetARN           string         `json:"fleetArn"`
	Name               string         `json:"name"`
	Status             string         `json:"status"`
	PolicyType         string         `json:"policyType"`
	MetricName         string         `json:"metricName"`
	ComparisonOperator string         `json:"comparisonOperator,omitempty"`
	Threshold          *float64       `json:"threshold,omitempty"`
	EvaluationPeriods  *int32         `json:"evaluationPeriods,omitempty"`
	AdjustmentType     string         `json:"adjustmentType,omitempty"`
	Adjustment         *int32         `json:"adjustment,omitempty"`
	TargetValue        *float64       `json:"targetValue,omitempty"`
	Breaches           map[string]int `json:"breaches,omitempty"`
	UpdatedAt          time.Time      `json:"updatedAt"`
}

func (p Policy) wire(location string) gamelift.ScalingPolicy {
	w := gamelift.ScalingPolicy{FleetId: p.FleetID, FleetArn: p.FleetARN, Name: p.Name, Status: p.Status, PolicyType: p.PolicyType,
		MetricName: p.MetricName, ComparisonOperator: p.ComparisonOperator, Threshold: p.Threshold, EvaluationPeriods: p.EvaluationPeriods,
		ScalingAdjustmentType: p.AdjustmentType, ScalingAdjustment: p.Adjustment, Location: location}
	if p.TargetValue != nil {
		w.TargetConfiguration = &gamelift.TargetConfiguration{TargetValue: p.TargetValue}
	}
	return w
}

func policyID(fleetID, name string) string { return fleetID + "/" + name }

var (
	comparisons     = []string{gamelift.CompareGreaterOrEqual, gamelift.CompareGreater, gamelift.CompareLess, gamelift.CompareLessOrEqual}
	adjustmentTypes = []string{gamelift.AdjustChangeInCapacity, gamelift.AdjustExactCapacity, gamelift.AdjustPercentChangeInCapacity}
	policyStatuses  = []string{"ACTIVE", "UPDATE_REQUESTED", "UPDATING", "DELETE_REQUESTED", "DELETING", "DELETED", "ERROR"}
)

// validatePolicy checks PutScalingPolicy's members as GameLift does: a
// target-based policy is PercentAvailableGameSessions with a
// TargetConfiguration and nothing of a rule; a rule-based one (the
// default) has every member of a rule and no TargetConfiguration.
func (s *Service) validatePolicy(in *gamelift.PutScalingPolicyInput) error {
	var v fault.Validator
	gamelift.CheckLength(&v, "Name", in.Name, 1, 1024)
	s.cfg.Formats.Check(&v, "FleetId", "FleetIdOrArn", in.FleetId)
	v.Check(slices.Contains(gamelift.ScalingMetrics, in.MetricName), "MetricName", "must be one of %v", gamelift.ScalingMetrics)
	switch in.PolicyType {
	case gamelift.PolicyTargetBased:
		v.Check(in.MetricName == "PercentAvailableGameSessions", "MetricName", "must be PercentAvailableGameSessions for a TargetBased policy")
		tv := in.TargetConfiguration
		v.Check(tv != nil && tv.TargetValue != nil, "TargetConfiguration.TargetValue", "is required for a TargetBased policy")
		if tv != nil && tv.TargetValue != nil {
			v.Check(*tv.TargetValue >= 0 && *tv.TargetValue < 100, "TargetConfiguration.TargetValue", "must be a percentage from 0 to below 100")
		}
		for member, set := range map[string]bool{"ComparisonOperator": in.ComparisonOperator != "", "Threshold": in.Threshold != nil,
			"EvaluationPeriods": in.EvaluationPeriods != nil, "ScalingAdjustmentType": in.ScalingAdjustmentType != "", "ScalingAdjustment": in.ScalingAdjustment != nil} {
			v.Check(!set, member, "is for RuleBased policies, not TargetBased")
		}
	case "", gamelift.PolicyRuleBased:
		v.Check(slices.Contains(comparisons, in.ComparisonOperator), "ComparisonOperator", "must be one of %v", comparisons)
		v.Check(in.Threshold != nil, "Threshold", "is required for a RuleBased policy")
		v.Check(in.EvaluationPeriods != nil && *in.EvaluationPeriods >= 1, "EvaluationPeriods", "is required for a RuleBased policy and must be at least 1")
		v.Check(slices.Contains(adjustmentTypes, in.ScalingAdjustmentType), "ScalingAdjustmentType", "must be one of %v", adjustmentTypes)
		v.Check(in.ScalingAdjustment != nil, "ScalingAdjustment", "is required for a RuleBased policy")
		if in.ScalingAdjustmentType == gamelift.AdjustExactCapacity && in.ScalingAdjustment != nil {
			v.Check(*in.ScalingAdjustment >= 0, "ScalingAdjustment", "must be at least 0 for ExactCapacity")
		}
		v.Check(in.TargetConfiguration == nil, "TargetConfiguration", "is for TargetBased policies, not RuleBased")
	default:
		v.Add("PolicyType", "must be RuleBased or TargetBased")
	}
	return v.Err()
}

// PutScalingPolicy creates or replaces a fleet's policy by name. It is
// ACTIVE at once and applies to every location of the fleet.
func (s *Service) PutScalingPolicy(ctx context.Context, in *gamelift.PutScalingPolicyInput) (*gamelift.PutScalingPolicyOutput, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	if err := s.validatePolicy(in); err != nil {
		return nil, err
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		f, err := fleet.GetActiveFleet(ctx, w, s.cfg.Fleets.FleetID(in.FleetId))
		if err != nil {
			return err
		}
		p := Policy{FleetID: f.ID, FleetARN: f.ARN, Name: in.Name, Status: gamelift.ScalingStatusActive, PolicyType: in.PolicyType,
			MetricName: in.MetricName, UpdatedAt: s.cfg.Clock.Now().UTC()}
		if p.PolicyType == "" {
			p.PolicyType = gamelift.PolicyRuleBased
		}
		if p.PolicyType == gamelift.PolicyTargetBased {
			p.TargetValue = in.TargetConfiguration.TargetValue
		} else {
			p.ComparisonOperator, p.Threshold, p.EvaluationPeriods = in.ComparisonOperator, in.Threshold, in.EvaluationPeriods
			p.AdjustmentType, p.Adjustment = in.ScalingAdjustmentType, in.ScalingAdjustment
		}
		if _, err := w.Put(ctx, store.Record{Kind: KindPolicy, ID: policyID(f.ID, p.Name), Doc: store.MustJSON(p), Keys: store.Keys{f.ID}, Upsert: true}); err != nil {
			return err
		}
		return s.cfg.Fleets.AddEvent(ctx, w, f.ID, "FLEET_SCALING_EVENT", fmt.Sprintf("Scaling policy %s put: %s", p.Name, describePolicy(p)))
	})
	if err != nil {
		return nil, fmt.Errorf("put scaling policy: %w", err)
	}
	return &gamelift.PutScalingPolicyOutput{Name: in.Name}, nil
}

func describePolicy(p Policy) string {
	if p.PolicyType == gamelift.PolicyTargetBased {
		return fmt.Sprintf("keep PercentAvailableGameSessions at %g", *p.TargetValue)
	}
	return fmt.Sprintf("when %s %s %g for %d evaluations, %s %d", p.MetricName, p.ComparisonOperator, *p.Threshold, *p.EvaluationPeriods, p.AdjustmentType, *p.Adjustment)
}

// DescribeScalingPolicies pages through a fleet's policies (with Location,
// as they apply there).
func (s *Service) DescribeScalingPolicies(ctx context.Context, in *gamelift.DescribeScalingPoliciesInput) (*gamelift.DescribeScalingPoliciesOutput, error) {
	n, after, err := service.AuthorizeList(ctx, in.Limit, 50, 0, in.NextToken, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
		s.cfg.Formats.CheckSet(v, "Location", "LocationStringModel", in.Location)
		v.Check(in.StatusFilter == "" || slices.Contains(policyStatuses, in.StatusFilter), "StatusFilter", "must be one of %v", policyStatuses)
	})
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeScalingPoliciesOutput{ScalingPolicies: []gamelift.ScalingPolicy{}}
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		f, _, err := fleet.GetFleet(ctx, r, s.cfg.Fleets.FleetID(in.FleetId))
		if err != nil {
			return err
		}
		if in.Location != "" && !f.HasLocation(in.Location) {
			return fault.New(fault.NotFound, "Location: fleet %s has no location %s", f.ID, in.Location)
		}
		ps, next, err := store.FilterPage(ctx, r, store.Query{Kind: KindPolicy, Key: 1, Value: f.ID, After: after}, n,
			func(p *Policy) bool { return in.StatusFilter == "" || p.Status == in.StatusFilter })
		for _, p := range ps {
			out.ScalingPolicies = append(out.ScalingPolicies, p.wire(in.Location))
		}
		out.NextToken = next
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe scaling policies: %w", err)
	}
	return out, nil
}

// DeleteScalingPolicy removes a policy; an absent one is NotFound.
func (s *Service) DeleteScalingPolicy(ctx context.Context, in *gamelift.DeleteScalingPolicyInput) (*gamelift.DeleteScalingPolicyOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		gamelift.CheckLength(v, "Name", in.Name, 1, 1024)
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
	}); err != nil {
		return nil, err
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		fleetID := s.cfg.Fleets.FleetID(in.FleetId)
		id := policyID(fleetID, in.Name)
		if _, _, err := service.Get[Policy](ctx, w, KindPolicy, id, "Name: fleet %s has no scaling policy %s", fleetID, in.Name); err != nil {
			return err
		}
		if err := w.Delete(ctx, KindPolicy, id, 0); err != nil {
			return err
		}
		return s.cfg.Fleets.AddEvent(ctx, w, fleetID, "FLEET_SCALING_EVENT", "Scaling policy "+in.Name+" deleted")
	})
	if err != nil {
		return nil, fmt.Errorf("delete scaling policy: %w", err)
	}
	return &gamelift.DeleteScalingPolicyOutput{}, nil
}
