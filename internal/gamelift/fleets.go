package gamelift

// Fleet shapes. Muster implements ComputeType ANYWHERE.

// Enum values used by fleets.
const (
	ComputeTypeAnywhere = "ANYWHERE"
	ComputeTypeEC2      = "EC2"

	FleetStatusNew        = "NEW"
	FleetStatusActive     = "ACTIVE"
	FleetStatusDeleting   = "DELETING"
	FleetStatusTerminated = "TERMINATED"

	ProtectionNone = "NoProtection"
	ProtectionFull = "FullProtection"
)

// RuntimeConfiguration says which server processes run on each compute.
type RuntimeConfiguration struct {
	ServerProcesses                     []ServerProcess `json:"ServerProcesses,omitempty"`
	MaxConcurrentGameSessionActivations *int32          `json:"MaxConcurrentGameSessionActivations,omitempty"`
	GameSessionActivationTimeoutSeconds *int32          `json:"GameSessionActivationTimeoutSeconds,omitempty"`
}

// ServerProcess is one launch line of a runtime configuration.
type ServerProcess struct {
	LaunchPath           string `json:"LaunchPath,omitempty"`
	Parameters           string `json:"Parameters,omitempty"`
	ConcurrentExecutions *int32 `json:"ConcurrentExecutions,omitempty"`
}

// ResourceCreationLimitPolicy limits game sessions one creator may start
// per period.
type ResourceCreationLimitPolicy struct {
	NewGameSessionsPerCreator *int32 `json:"NewGameSessionsPerCreator,omitempty"`
	PolicyPeriodInMinutes     *int32 `json:"PolicyPeriodInMinutes,omitempty"`
}

// AnywhereConfiguration carries the hourly cost of an Anywhere fleet.
type AnywhereConfiguration struct {
	Cost string `json:"Cost,omitempty"`
}

// LocationConfiguration names one fleet location.
type LocationConfiguration struct {
	Location string `json:"Location,omitempty"`
}

// LocationState is the status of one fleet location.
type LocationState struct {
	Location string `json:"Location,omitempty"`
	Status   string `json:"Status,omitempty"`
}

// LocationAttributes describes one fleet location.
type LocationAttributes struct {
	LocationState  *LocationState `json:"LocationState,omitempty"`
	StoppedActions []string       `json:"StoppedActions,omitempty"`
	UpdateStatus   string         `json:"UpdateStatus,omitempty"`
}

// FleetAttributes describes a fleet (the Anywhere subset).
type FleetAttributes struct {
	FleetId                        string                       `json:"FleetId,omitempty"`
	FleetArn                       string                       `json:"FleetArn,omitempty"`
	Name                           string                       `json:"Name,omitempty"`
	Description                    string                       `json:"Description,omitempty"`
	CreationTime                   *Timestamp                   `json:"CreationTime,omitempty"`
	TerminationTime                *Timestamp                   `json:"TerminationTime,omitempty"`
	Status                         string                       `json:"Status,omitempty"`
	NewGameSessionProtectionPolicy string                       `json:"NewGameSessionProtectionPolicy,omitempty"`
	ResourceCreationLimitPolicy    *ResourceCreationLimitPolicy `json:"ResourceCreationLimitPolicy,omitempty"`
	MetricGroups                   []string                     `json:"MetricGroups,omitempty"`
	StoppedActions                 []string                     `json:"StoppedActions,omitempty"`
	ComputeType                    string                       `json:"ComputeType,omitempty"`
	AnywhereConfiguration          *AnywhereConfiguration       `json:"AnywhereConfiguration,omitempty"`
}

// CreateFleetInput is the input of CreateFleet. EC2-only members are
// decoded so that they can be refused by name.
type CreateFleetInput struct {
	Name                            string                       `json:"Name,omitempty"`
	Description                     string                       `json:"Description,omitempty"`
	BuildId                         string                       `json:"BuildId,omitempty"`
	ScriptId                        string                       `json:"ScriptId,omitempty"`
	ServerLaunchPath                string                       `json:"ServerLaunchPath,omitempty"`
	ServerLaunchParameters          string                       `json:"ServerLaunchParameters,omitempty"`
	LogPaths                        []string                     `json:"LogPaths,omitempty"`
	EC2InstanceType                 string                       `json:"EC2InstanceType,omitempty"`
	EC2InboundPermissions           []map[string]any             `json:"EC2InboundPermissions,omitempty"`
	NewGameSessionProtectionPolicy  string                       `json:"NewGameSessionProtectionPolicy,omitempty"`
	RuntimeConfiguration            *RuntimeConfiguration        `json:"RuntimeConfiguration,omitempty"`
	ResourceCreationLimitPolicy     *ResourceCreationLimitPolicy `json:"ResourceCreationLimitPolicy,omitempty"`
	MetricGroups                    []string                     `json:"MetricGroups,omitempty"`
	PeerVpcAwsAccountId             string                       `json:"PeerVpcAwsAccountId,omitempty"`
	PeerVpcId                       string                       `json:"PeerVpcId,omitempty"`
	FleetType                       string                       `json:"FleetType,omitempty"`
	InstanceRoleArn                 string                       `json:"InstanceRoleArn,omitempty"`
	CertificateConfiguration        map[string]any               `json:"CertificateConfiguration,omitempty"`
	Locations                       []LocationConfiguration      `json:"Locations,omitempty"`
	Tags                            []Tag                        `json:"Tags,omitempty"`
	ComputeType                     string                       `json:"ComputeType,omitempty"`
	AnywhereConfiguration           *AnywhereConfiguration       `json:"AnywhereConfiguration,omitempty"`
	InstanceRoleCredentialsProvider string                       `json:"InstanceRoleCredentialsProvider,omitempty"`
	PlayerGatewayMode               string                       `json:"PlayerGatewayMode,omitempty"`
	PlayerGatewayConfiguration      map[string]any               `json:"PlayerGatewayConfiguration,omitempty"`
}

// CreateFleetOutput is the output of CreateFleet.
type CreateFleetOutput struct {
	FleetAttributes *FleetAttributes `json:"FleetAttributes,omitempty"`
	LocationStates  []LocationState  `json:"LocationStates,omitempty"`
}

// DescribeFleetAttributesInput is the input of DescribeFleetAttributes.
type DescribeFleetAttributesInput struct {
	FleetIds  []string `json:"FleetIds,omitempty"`
	Limit     *int32   `json:"Limit,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

// DescribeFleetAttributesOutput is the output of DescribeFleetAttributes.
type DescribeFleetAttributesOutput struct {
	FleetAttributes []FleetAttributes `json:"FleetAttributes"`
	NextToken       string            `json:"NextToken,omitempty"`
}

// UpdateFleetAttributesInput is the input of UpdateFleetAttributes.
type UpdateFleetAttributesInput struct {
	FleetId                        string                       `json:"FleetId,omitempty"`
	Name                           string                       `json:"Name,omitempty"`
	Description                    string                       `json:"Description,omitempty"`
	NewGameSessionProtectionPolicy string                       `json:"NewGameSessionProtectionPolicy,omitempty"`
	ResourceCreationLimitPolicy    *ResourceCreationLimitPolicy `json:"ResourceCreationLimitPolicy,omitempty"`
	MetricGroups                   []string                     `json:"MetricGroups,omitempty"`
	AnywhereConfiguration          *AnywhereConfiguration       `json:"AnywhereConfiguration,omitempty"`
}

// UpdateFleetAttributesOutput is the output of UpdateFleetAttributes.
type UpdateFleetAttributesOutput struct {
	FleetId  string `json:"FleetId,omitempty"`
	FleetArn string `json:"FleetArn,omitempty"`
}

// DeleteFleetInput is the input of DeleteFleet.
type DeleteFleetInput struct {
	FleetId string `json:"FleetId,omitempty"`
}

// DeleteFleetOutput is the (empty) output of DeleteFleet.
type DeleteFleetOutput struct{}

// CreateFleetLocationsInput is the input of CreateFleetLocations.
type CreateFleetLocationsInput struct {
	FleetId   string                  `json:"FleetId,omitempty"`
	Locations []LocationConfiguration `json:"Locations,omitempty"`
}

// CreateFleetLocationsOutput is the output of CreateFleetLocations.
type CreateFleetLocationsOutput struct {
	FleetId        string          `json:"FleetId,omitempty"`
	FleetArn       string          `json:"FleetArn,omitempty"`
	LocationStates []LocationState `json:"LocationStates,omitempty"`
}

// DeleteFleetLocationsInput is the input of DeleteFleetLocations.
type DeleteFleetLocationsInput struct {
	FleetId   string   `json:"FleetId,omitempty"`
	Locations []string `json:"Locations,omitempty"`
}

// DeleteFleetLocationsOutput is the output of DeleteFleetLocations.
type DeleteFleetLocationsOutput struct {
	FleetId        string          `json:"FleetId,omitempty"`
	FleetArn       string          `json:"FleetArn,omitempty"`
	LocationStates []LocationState `json:"LocationStates,omitempty"`
}

// DescribeFleetLocationAttributesInput is the input of DescribeFleetLocationAttributes.
type DescribeFleetLocationAttributesInput struct {
	FleetId   string   `json:"FleetId,omitempty"`
	Locations []string `json:"Locations,omitempty"`
	Limit     *int32   `json:"Limit,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

// DescribeFleetLocationAttributesOutput is the output of DescribeFleetLocationAttributes.
type DescribeFleetLocationAttributesOutput struct {
	FleetId            string               `json:"FleetId,omitempty"`
	FleetArn           string               `json:"FleetArn,omitempty"`
	LocationAttributes []LocationAttributes `json:"LocationAttributes"`
	NextToken          string               `json:"NextToken,omitempty"`
}

// EC2InstanceCounts are capacity counts; for Anywhere fleets Muster counts
// computes (ACTIVE: registered and active, IDLE: with no game session).
type EC2InstanceCounts struct {
	DESIRED     *int32 `json:"DESIRED,omitempty"`
	MINIMUM     *int32 `json:"MINIMUM,omitempty"`
	MAXIMUM     *int32 `json:"MAXIMUM,omitempty"`
	PENDING     *int32 `json:"PENDING,omitempty"`
	ACTIVE      *int32 `json:"ACTIVE,omitempty"`
	IDLE        *int32 `json:"IDLE,omitempty"`
	TERMINATING *int32 `json:"TERMINATING,omitempty"`
}

// FleetCapacity is one fleet's (or location's) capacity.
type FleetCapacity struct {
	FleetId        string             `json:"FleetId,omitempty"`
	FleetArn       string             `json:"FleetArn,omitempty"`
	InstanceCounts *EC2InstanceCounts `json:"InstanceCounts,omitempty"`
	Location       string             `json:"Location,omitempty"`
}

// DescribeFleetCapacityInput is the input of DescribeFleetCapacity.
type DescribeFleetCapacityInput struct {
	FleetIds  []string `json:"FleetIds,omitempty"`
	Limit     *int32   `json:"Limit,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

// DescribeFleetCapacityOutput is the output of DescribeFleetCapacity.
type DescribeFleetCapacityOutput struct {
	FleetCapacity []FleetCapacity `json:"FleetCapacity"`
	NextToken     string          `json:"NextToken,omitempty"`
}

// DescribeFleetLocationCapacityInput is the input of DescribeFleetLocationCapacity.
type DescribeFleetLocationCapacityInput struct {
	FleetId  string `json:"FleetId,omitempty"`
	Location string `json:"Location,omitempty"`
}

// DescribeFleetLocationCapacityOutput is the output of DescribeFleetLocationCapacity.
type DescribeFleetLocationCapacityOutput struct {
	FleetCapacity *FleetCapacity `json:"FleetCapacity,omitempty"`
}

// FleetUtilization is a snapshot of a fleet's (or location's) use.
type FleetUtilization struct {
	FleetId                   string `json:"FleetId,omitempty"`
	FleetArn                  string `json:"FleetArn,omitempty"`
	ActiveServerProcessCount  *int32 `json:"ActiveServerProcessCount,omitempty"`
	ActiveGameSessionCount    *int32 `json:"ActiveGameSessionCount,omitempty"`
	CurrentPlayerSessionCount *int32 `json:"CurrentPlayerSessionCount,omitempty"`
	MaximumPlayerSessionCount *int32 `json:"MaximumPlayerSessionCount,omitempty"`
	Location                  string `json:"Location,omitempty"`
}

// DescribeFleetUtilizationInput is the input of DescribeFleetUtilization.
type DescribeFleetUtilizationInput struct {
	FleetIds  []string `json:"FleetIds,omitempty"`
	Limit     *int32   `json:"Limit,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

// DescribeFleetUtilizationOutput is the output of DescribeFleetUtilization.
type DescribeFleetUtilizationOutput struct {
	FleetUtilization []FleetUtilization `json:"FleetUtilization"`
	NextToken        string             `json:"NextToken,omitempty"`
}

// Event is one fleet event.
type Event struct {
	EventId    string     `json:"EventId,omitempty"`
	ResourceId string     `json:"ResourceId,omitempty"`
	EventCode  string     `json:"EventCode,omitempty"`
	Message    string     `json:"Message,omitempty"`
	EventTime  *Timestamp `json:"EventTime,omitempty"`
	Count      *int64     `json:"Count,omitempty"`
}

// DescribeFleetEventsInput is the input of DescribeFleetEvents.
type DescribeFleetEventsInput struct {
	FleetId   string     `json:"FleetId,omitempty"`
	StartTime *Timestamp `json:"StartTime,omitempty"`
	EndTime   *Timestamp `json:"EndTime,omitempty"`
	Limit     *int32     `json:"Limit,omitempty"`
	NextToken string     `json:"NextToken,omitempty"`
}

// DescribeFleetEventsOutput is the output of DescribeFleetEvents.
type DescribeFleetEventsOutput struct {
	Events    []Event `json:"Events"`
	NextToken string  `json:"NextToken,omitempty"`
}

// DescribeRuntimeConfigurationInput is the input of DescribeRuntimeConfiguration.
type DescribeRuntimeConfigurationInput struct {
	FleetId string `json:"FleetId,omitempty"`
}

// DescribeRuntimeConfigurationOutput is the output of DescribeRuntimeConfiguration.
type DescribeRuntimeConfigurationOutput struct {
	RuntimeConfiguration *RuntimeConfiguration `json:"RuntimeConfiguration,omitempty"`
}

// UpdateRuntimeConfigurationInput is the input of UpdateRuntimeConfiguration.
type UpdateRuntimeConfigurationInput struct {
	FleetId              string                `json:"FleetId,omitempty"`
	RuntimeConfiguration *RuntimeConfiguration `json:"RuntimeConfiguration,omitempty"`
}

// UpdateRuntimeConfigurationOutput is the output of UpdateRuntimeConfiguration.
type UpdateRuntimeConfigurationOutput struct {
	RuntimeConfiguration *RuntimeConfiguration `json:"RuntimeConfiguration,omitempty"`
}

// ListFleetsInput is the input of ListFleets.
type ListFleetsInput struct {
	BuildId   string `json:"BuildId,omitempty"`
	ScriptId  string `json:"ScriptId,omitempty"`
	Limit     *int32 `json:"Limit,omitempty"`
	NextToken string `json:"NextToken,omitempty"`
}

// ListFleetsOutput is the output of ListFleets.
type ListFleetsOutput struct {
	FleetIds  []string `json:"FleetIds"`
	NextToken string   `json:"NextToken,omitempty"`
}

// DescribeFleetLocationUtilizationInput is the input of DescribeFleetLocationUtilization.
type DescribeFleetLocationUtilizationInput struct {
	FleetId  string `json:"FleetId,omitempty"`
	Location string `json:"Location,omitempty"`
}

// DescribeFleetLocationUtilizationOutput is the output of DescribeFleetLocationUtilization.
type DescribeFleetLocationUtilizationOutput struct {
	FleetUtilization *FleetUtilization `json:"FleetUtilization,omitempty"`
}
