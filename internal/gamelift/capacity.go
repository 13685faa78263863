package gamelift

// ManagedCapacityConfiguration is how a fleet scales to and from zero.
type ManagedCapacityConfiguration struct {
	ZeroCapacityStrategy          string `json:"ZeroCapacityStrategy,omitempty"`
	ScaleInAfterInactivityMinutes *int32 `json:"ScaleInAfterInactivityMinutes,omitempty"`
}

// ZeroCapacityStrategy values.
const (
	ZeroCapacityManual             = "MANUAL"
	ZeroCapacityScaleToAndFromZero = "SCALE_TO_AND_FROM_ZERO"
)

// UpdateFleetCapacityInput is the input of UpdateFleetCapacity.
type UpdateFleetCapacityInput struct {
	FleetId                      string                        `json:"FleetId,omitempty"`
	DesiredInstances             *int32                        `json:"DesiredInstances,omitempty"`
	MinSize                      *int32                        `json:"MinSize,omitempty"`
	MaxSize                      *int32                        `json:"MaxSize,omitempty"`
	Location                     string                        `json:"Location,omitempty"`
	ManagedCapacityConfiguration *ManagedCapacityConfiguration `json:"ManagedCapacityConfiguration,omitempty"`
}

// UpdateFleetCapacityOutput is the output of UpdateFleetCapacity.
type UpdateFleetCapacityOutput struct {
	FleetId                      string                        `json:"FleetId,omitempty"`
	FleetArn                     string                        `json:"FleetArn,omitempty"`
	Location                     string                        `json:"Location,omitempty"`
	ManagedCapacityConfiguration *ManagedCapacityConfiguration `json:"ManagedCapacityConfiguration,omitempty"`
}

// FleetActionAutoScaling is the one FleetAction.
const FleetActionAutoScaling = "AUTO_SCALING"

// StartFleetActionsInput is the input of StartFleetActions.
type StartFleetActionsInput struct {
	FleetId  string   `json:"FleetId,omitempty"`
	Actions  []string `json:"Actions,omitempty"`
	Location string   `json:"Location,omitempty"`
}

// StartFleetActionsOutput is the output of StartFleetActions.
type StartFleetActionsOutput struct {
	FleetId  string `json:"FleetId,omitempty"`
	FleetArn string `json:"FleetArn,omitempty"`
}

// StopFleetActionsInput is the input of StopFleetActions.
type StopFleetActionsInput = StartFleetActionsInput

// StopFleetActionsOutput is the output of StopFleetActions.
type StopFleetActionsOutput = StartFleetActionsOutput

// TargetConfiguration is a target-based policy's target.
type TargetConfiguration struct {
	TargetValue *float64 `json:"TargetValue,omitempty"`
}

// ScalingPolicy is one scaling policy as described.
type ScalingPolicy struct {
	FleetId               string               `json:"FleetId,omitempty"`
	FleetArn              string               `json:"FleetArn,omitempty"`
	Name                  string               `json:"Name,omitempty"`
	Status                string               `json:"Status,omitempty"`
	ScalingAdjustment     *int32               `json:"ScalingAdjustment,omitempty"`
	ScalingAdjustmentType string               `json:"ScalingAdjustmentType,omitempty"`
	ComparisonOperator    string               `json:"ComparisonOperator,omitempty"`
	Threshold             *float64             `json:"Threshold,omitempty"`
	EvaluationPeriods     *int32               `json:"EvaluationPeriods,omitempty"`
	MetricName            string               `json:"MetricName,omitempty"`
	PolicyType            string               `json:"PolicyType,omitempty"`
	TargetConfiguration   *TargetConfiguration `json:"TargetConfiguration,omitempty"`
	UpdateStatus          string               `json:"UpdateStatus,omitempty"`
	Location              string               `json:"Location,omitempty"`
}

// PutScalingPolicyInput is the input of PutScalingPolicy.
type PutScalingPolicyInput struct {
	Name                  string               `json:"Name,omitempty"`
	FleetId               string               `json:"FleetId,omitempty"`
	ScalingAdjustment     *int32               `json:"ScalingAdjustment,omitempty"`
	ScalingAdjustmentType string               `json:"ScalingAdjustmentType,omitempty"`
	Threshold             *float64             `json:"Threshold,omitempty"`
	ComparisonOperator    string               `json:"ComparisonOperator,omitempty"`
	EvaluationPeriods     *int32               `json:"EvaluationPeriods,omitempty"`
	MetricName            string               `json:"MetricName,omitempty"`
	PolicyType            string               `json:"PolicyType,omitempty"`
	TargetConfiguration   *TargetConfiguration `json:"TargetConfiguration,omitempty"`
}

// PutScalingPolicyOutput is the output of PutScalingPolicy.
type PutScalingPolicyOutput struct {
	Name string `json:"Name,omitempty"`
}

// DescribeScalingPoliciesInput is the input of DescribeScalingPolicies.
type DescribeScalingPoliciesInput struct {
	FleetId      string `json:"FleetId,omitempty"`
	StatusFilter string `json:"StatusFilter,omitempty"`
	Limit        *int32 `json:"Limit,omitempty"`
	NextToken    string `json:"NextToken,omitempty"`
	Location     string `json:"Location,omitempty"`
}

// DescribeScalingPoliciesOutput is the output of DescribeScalingPolicies.
type DescribeScalingPoliciesOutput struct {
	ScalingPolicies []ScalingPolicy `json:"ScalingPolicies"`
	NextToken       string          `json:"NextToken,omitempty"`
}

// DeleteScalingPolicyInput is the input of DeleteScalingPolicy.
type DeleteScalingPolicyInput struct {
	Name    string `json:"Name,omitempty"`
	FleetId string `json:"FleetId,omitempty"`
}

// DeleteScalingPolicyOutput is the output of DeleteScalingPolicy.
type DeleteScalingPolicyOutput struct{}

// Scaling policy enumerations.
const (
	PolicyTargetBased = "TargetBased"
	PolicyRuleBased   = "RuleBased"

	AdjustChangeInCapacity        = "ChangeInCapacity"
	AdjustExactCapacity           = "ExactCapacity"
	AdjustPercentChangeInCapacity = "PercentChangeInCapacity"

	CompareGreaterOrEqual = "GreaterThanOrEqualToThreshold"
	CompareGreater        = "GreaterThanThreshold"
	CompareLess           = "LessThanThreshold"
	CompareLessOrEqual    = "LessThanOrEqualToThreshold"

	ScalingStatusActive          = "ACTIVE"
	ScalingStatusUpdateRequested = "UPDATE_REQUESTED"
	ScalingStatusDeleted         = "DELETED"
	ScalingStatusError           = "ERROR"
)

// ScalingMetrics are GameLift's MetricName values.
var ScalingMetrics = []string{"ActivatingGameSessions", "ActiveGameSessions", "ActiveInstances", "AvailableGameSessions",
	"AvailablePlayerSessions", "CurrentPlayerSessions", "IdleInstances", "PercentAvailableGameSessions",
	"PercentIdleInstances", "QueueDepth", "WaitTime", "ConcurrentActivatableGameSessions"}
