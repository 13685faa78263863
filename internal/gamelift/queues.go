package gamelift

// Game session queue and placement shapes (docs/control-api.md, "Queue
// placement").

// Priority types of a queue's PriorityConfiguration.PriorityOrder.
const (
	PriorityLatency     = "LATENCY"
	PriorityCost        = "COST"
	PriorityDestination = "DESTINATION"
	PriorityLocation    = "LOCATION"
)

// PlacementFallbackStrategy values.
const (
	FallbackDefaultAfterSinglePass = "DEFAULT_AFTER_SINGLE_PASS"
	FallbackNone                   = "NONE"
)

// Placement statuses (GameSessionPlacementState).
const (
	PlacementPending   = "PENDING"
	PlacementFulfilled = "FULFILLED"
	PlacementCancelled = "CANCELLED"
	PlacementTimedOut  = "TIMED_OUT"
	PlacementFailed    = "FAILED"
)

// PlayerLatencyPolicy caps every player's latency for a while.
type PlayerLatencyPolicy struct {
	MaximumIndividualPlayerLatencyMilliseconds *int32 `json:"MaximumIndividualPlayerLatencyMilliseconds,omitempty"`
	PolicyDurationSeconds                      *int32 `json:"PolicyDurationSeconds,omitempty"`
}

// GameSessionQueueDestination is a fleet or alias ARN.
type GameSessionQueueDestination struct {
	DestinationArn string `json:"DestinationArn,omitempty"`
}

// FilterConfiguration limits the locations a queue places in.
type FilterConfiguration struct {
	AllowedLocations []string `json:"AllowedLocations,omitempty"`
}

// PriorityConfiguration orders a queue's candidate locations.
type PriorityConfiguration struct {
	PriorityOrder []string `json:"PriorityOrder,omitempty"`
	LocationOrder []string `json:"LocationOrder,omitempty"`
}

// GameSessionQueue is a queue as the control API shows it.
type GameSessionQueue struct {
	Name                  string                        `json:"Name,omitempty"`
	GameSessionQueueArn   string                        `json:"GameSessionQueueArn,omitempty"`
	TimeoutInSeconds      *int32                        `json:"TimeoutInSeconds,omitempty"`
	PlayerLatencyPolicies []PlayerLatencyPolicy         `json:"PlayerLatencyPolicies,omitempty"`
	Destinations          []GameSessionQueueDestination `json:"Destinations,omitempty"`
	FilterConfiguration   *FilterConfiguration          `json:"FilterConfiguration,omitempty"`
	PriorityConfiguration *PriorityConfiguration        `json:"PriorityConfiguration,omitempty"`
	CustomEventData       string                        `json:"CustomEventData,omitempty"`
	NotificationTarget    string                        `json:"NotificationTarget,omitempty"`
}

// CreateGameSessionQueueInput is the input of CreateGameSessionQueue.
type CreateGameSessionQueueInput struct {
	Name                  string                        `json:"Name,omitempty"`
	TimeoutInSeconds      *int32                        `json:"TimeoutInSeconds,omitempty"`
	PlayerLatencyPolicies []PlayerLatencyPolicy         `json:"PlayerLatencyPolicies,omitempty"`
	Destinations          []GameSessionQueueDestination `json:"Destinations,omitempty"`
	FilterConfiguration   *FilterConfiguration          `json:"FilterConfiguration,omitempty"`
	PriorityConfiguration *PriorityConfiguration        `json:"PriorityConfiguration,omitempty"`
	CustomEventData       *string                       `json:"CustomEventData,omitempty"`
	NotificationTarget    *string                       `json:"NotificationTarget,omitempty"`
	Tags                  []Tag                         `json:"Tags,omitempty"`
}

// CreateGameSessionQueueOutput is the output of CreateGameSessionQueue.
type CreateGameSessionQueueOutput struct {
	GameSessionQueue *GameSessionQueue `json:"GameSessionQueue,omitempty"`
}

// DescribeGameSessionQueuesInput is the input of DescribeGameSessionQueues.
type DescribeGameSessionQueuesInput struct {
	Names     []string `json:"Names,omitempty"`
	Limit     *int32   `json:"Limit,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

// DescribeGameSessionQueuesOutput is the output of DescribeGameSessionQueues.
type DescribeGameSessionQueuesOutput struct {
	GameSessionQueues []GameSessionQueue `json:"GameSessionQueues"`
	NextToken         string             `json:"NextToken,omitempty"`
}

// UpdateGameSessionQueueInput is the input of UpdateGameSessionQueue.
type UpdateGameSessionQueueInput struct {
	Name                  string                        `json:"Name,omitempty"`
	TimeoutInSeconds      *int32                        `json:"TimeoutInSeconds,omitempty"`
	PlayerLatencyPolicies []PlayerLatencyPolicy         `json:"PlayerLatencyPolicies,omitempty"`
	Destinations          []GameSessionQueueDestination `json:"Destinations,omitempty"`
	FilterConfiguration   *FilterConfiguration          `json:"FilterConfiguration,omitempty"`
	PriorityConfiguration *PriorityConfiguration        `json:"PriorityConfiguration,omitempty"`
	CustomEventData       *string                       `json:"CustomEventData,omitempty"`
	NotificationTarget    *string                       `json:"NotificationTarget,omitempty"`
}

// UpdateGameSessionQueueOutput is the output of UpdateGameSessionQueue.
type UpdateGameSessionQueueOutput struct {
	GameSessionQueue *GameSessionQueue `json:"GameSessionQueue,omitempty"`
}

// DeleteGameSessionQueueInput is the input of DeleteGameSessionQueue.
type DeleteGameSessionQueueInput struct {
	Name string `json:"Name,omitempty"`
}

// DeleteGameSessionQueueOutput is the (empty) output of DeleteGameSessionQueue.
type DeleteGameSessionQueueOutput struct{}

// PlayerLatency is one player's latency to one location. RegionIdentifier
// is the location name (custom-… for Anywhere locations).
type PlayerLatency struct {
	PlayerId              string   `json:"PlayerId,omitempty"`
	RegionIdentifier      string   `json:"RegionIdentifier,omitempty"`
	LatencyInMilliseconds *float32 `json:"LatencyInMilliseconds,omitempty"`
}

// DesiredPlayerSession is a player to reserve a slot for at placement.
type DesiredPlayerSession struct {
	PlayerId   string `json:"PlayerId,omitempty"`
	PlayerData string `json:"PlayerData,omitempty"`
}

// PlacedPlayerSession is a player session made by a placement.
type PlacedPlayerSession struct {
	PlayerId        string `json:"PlayerId,omitempty"`
	PlayerSessionId string `json:"PlayerSessionId,omitempty"`
}

// PriorityConfigurationOverride is a placement's own location order.
type PriorityConfigurationOverride struct {
	PlacementFallbackStrategy string   `json:"PlacementFallbackStrategy,omitempty"`
	LocationOrder             []string `json:"LocationOrder,omitempty"`
}

// GameSessionPlacement is a placement as the control API shows it.
type GameSessionPlacement struct {
	PlacementId                   string                         `json:"PlacementId,omitempty"`
	GameSessionQueueName          string                         `json:"GameSessionQueueName,omitempty"`
	Status                        string                         `json:"Status,omitempty"`
	GameProperties                []GameProperty                 `json:"GameProperties,omitempty"`
	MaximumPlayerSessionCount     *int32                         `json:"MaximumPlayerSessionCount,omitempty"`
	GameSessionName               string                         `json:"GameSessionName,omitempty"`
	GameSessionId                 string                         `json:"GameSessionId,omitempty"`
	GameSessionArn                string                         `json:"GameSessionArn,omitempty"`
	GameSessionRegion             string                         `json:"GameSessionRegion,omitempty"`
	PlayerLatencies               []PlayerLatency                `json:"PlayerLatencies,omitempty"`
	StartTime                     *Timestamp                     `json:"StartTime,omitempty"`
	EndTime                       *Timestamp                     `json:"EndTime,omitempty"`
	IpAddress                     string                         `json:"IpAddress,omitempty"`
	DnsName                       string                         `json:"DnsName,omitempty"`
	Port                          *int32                         `json:"Port,omitempty"`
	PlacedPlayerSessions          []PlacedPlayerSession          `json:"PlacedPlayerSessions,omitempty"`
	GameSessionData               string                         `json:"GameSessionData,omitempty"`
	MatchmakerData                string                         `json:"MatchmakerData,omitempty"`
	PriorityConfigurationOverride *PriorityConfigurationOverride `json:"PriorityConfigurationOverride,omitempty"`
}

// StartGameSessionPlacementInput is the input of StartGameSessionPlacement.
type StartGameSessionPlacementInput struct {
	PlacementId                   string                         `json:"PlacementId,omitempty"`
	GameSessionQueueName          string                         `json:"GameSessionQueueName,omitempty"`
	GameProperties                []GameProperty                 `json:"GameProperties,omitempty"`
	MaximumPlayerSessionCount     *int32                         `json:"MaximumPlayerSessionCount,omitempty"`
	GameSessionName               string                         `json:"GameSessionName,omitempty"`
	PlayerLatencies               []PlayerLatency                `json:"PlayerLatencies,omitempty"`
	DesiredPlayerSessions         []DesiredPlayerSession         `json:"DesiredPlayerSessions,omitempty"`
	GameSessionData               string                         `json:"GameSessionData,omitempty"`
	PriorityConfigurationOverride *PriorityConfigurationOverride `json:"PriorityConfigurationOverride,omitempty"`
}

// StartGameSessionPlacementOutput is the output of StartGameSessionPlacement.
type StartGameSessionPlacementOutput struct {
	GameSessionPlacement *GameSessionPlacement `json:"GameSessionPlacement,omitempty"`
}

// DescribeGameSessionPlacementInput is the input of DescribeGameSessionPlacement.
type DescribeGameSessionPlacementInput struct {
	PlacementId string `json:"PlacementId,omitempty"`
}

// DescribeGameSessionPlacementOutput is the output of DescribeGameSessionPlacement.
type DescribeGameSessionPlacementOutput struct {
	GameSessionPlacement *GameSessionPlacement `json:"GameSessionPlacement,omitempty"`
}

// StopGameSessionPlacementInput is the input of StopGameSessionPlacement.
type StopGameSessionPlacementInput struct {
	PlacementId string `json:"PlacementId,omitempty"`
}

// StopGameSessionPlacementOutput is the output of StopGameSessionPlacement.
type StopGameSessionPlacementOutput struct {
	GameSessionPlacement *GameSessionPlacement `json:"GameSessionPlacement,omitempty"`
}
