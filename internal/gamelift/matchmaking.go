package gamelift

// Matchmaking wire shapes: rule sets, configurations, tickets and backfill
// (docs/flexmatch.md).

// Enumerations of matchmaking.
const (
	FlexMatchStandalone = "STANDALONE"
	FlexMatchWithQueue  = "WITH_QUEUE"
	BackfillAutomatic   = "AUTOMATIC"
	BackfillManual      = "MANUAL"
	AcceptanceAccept    = "ACCEPT"
	AcceptanceReject    = "REJECT"
)

// Matchmaking ticket statuses (MatchmakingConfigurationStatus).
const (
	TicketQueued             = "QUEUED"
	TicketSearching          = "SEARCHING"
	TicketRequiresAcceptance = "REQUIRES_ACCEPTANCE"
	TicketPlacing            = "PLACING"
	TicketCompleted          = "COMPLETED"
	TicketFailed             = "FAILED"
	TicketCancelled          = "CANCELLED"
	TicketTimedOut           = "TIMED_OUT"
)

// MatchmakingRuleSet is a stored rule set.
type MatchmakingRuleSet struct {
	RuleSetName  string     `json:"RuleSetName,omitempty"`
	RuleSetArn   string     `json:"RuleSetArn,omitempty"`
	RuleSetBody  string     `json:"RuleSetBody"`
	CreationTime *Timestamp `json:"CreationTime,omitempty"`
}

// CreateMatchmakingRuleSetInput is the input of CreateMatchmakingRuleSet.
type CreateMatchmakingRuleSetInput struct {
	Name        string `json:"Name,omitempty"`
	RuleSetBody string `json:"RuleSetBody,omitempty"`
	Tags        []Tag  `json:"Tags,omitempty"`
}

// CreateMatchmakingRuleSetOutput is the output of CreateMatchmakingRuleSet.
type CreateMatchmakingRuleSetOutput struct {
	RuleSet *MatchmakingRuleSet `json:"RuleSet,omitempty"`
}

// DescribeMatchmakingRuleSetsInput is the input of DescribeMatchmakingRuleSets.
type DescribeMatchmakingRuleSetsInput struct {
	Names     []string `json:"Names,omitempty"`
	Limit     *int32   `json:"Limit,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

// DescribeMatchmakingRuleSetsOutput is the output of DescribeMatchmakingRuleSets.
type DescribeMatchmakingRuleSetsOutput struct {
	RuleSets  []MatchmakingRuleSet `json:"RuleSets"`
	NextToken string               `json:"NextToken,omitempty"`
}

// DeleteMatchmakingRuleSetInput is the input of DeleteMatchmakingRuleSet.
type DeleteMatchmakingRuleSetInput struct {
	Name string `json:"Name,omitempty"`
}

// DeleteMatchmakingRuleSetOutput is the (empty) output of DeleteMatchmakingRuleSet.
type DeleteMatchmakingRuleSetOutput struct{}

// ValidateMatchmakingRuleSetInput is the input of ValidateMatchmakingRuleSet.
type ValidateMatchmakingRuleSetInput struct {
	RuleSetBody string `json:"RuleSetBody,omitempty"`
}

// ValidateMatchmakingRuleSetOutput is the output of ValidateMatchmakingRuleSet.
type ValidateMatchmakingRuleSetOutput struct {
	Valid *bool `json:"Valid,omitempty"`
}

// MatchmakingConfiguration is a matchmaker.
type MatchmakingConfiguration struct {
	Name                     string         `json:"Name,omitempty"`
	ConfigurationArn         string         `json:"ConfigurationArn,omitempty"`
	Description              string         `json:"Description,omitempty"`
	GameSessionQueueArns     []string       `json:"GameSessionQueueArns,omitempty"`
	RequestTimeoutSeconds    *int32         `json:"RequestTimeoutSeconds,omitempty"`
	AcceptanceTimeoutSeconds *int32         `json:"AcceptanceTimeoutSeconds,omitempty"`
	AcceptanceRequired       *bool          `json:"AcceptanceRequired,omitempty"`
	RuleSetName              string         `json:"RuleSetName,omitempty"`
	RuleSetArn               string         `json:"RuleSetArn,omitempty"`
	NotificationTarget       string         `json:"NotificationTarget,omitempty"`
	AdditionalPlayerCount    *int32         `json:"AdditionalPlayerCount,omitempty"`
	CustomEventData          string         `json:"CustomEventData,omitempty"`
	CreationTime             *Timestamp     `json:"CreationTime,omitempty"`
	GameProperties           []GameProperty `json:"GameProperties,omitempty"`
	GameSessionData          string         `json:"GameSessionData,omitempty"`
	BackfillMode             string         `json:"BackfillMode,omitempty"`
	FlexMatchMode            string         `json:"FlexMatchMode,omitempty"`
}

// CreateMatchmakingConfigurationInput is the input of CreateMatchmakingConfiguration.
type CreateMatchmakingConfigurationInput struct {
	Name                     string         `json:"Name,omitempty"`
	Description              *string        `json:"Description,omitempty"`
	GameSessionQueueArns     []string       `json:"GameSessionQueueArns,omitempty"`
	RequestTimeoutSeconds    *int32         `json:"RequestTimeoutSeconds,omitempty"`
	AcceptanceTimeoutSeconds *int32         `json:"AcceptanceTimeoutSeconds,omitempty"`
	AcceptanceRequired       *bool          `json:"AcceptanceRequired,omitempty"`
	RuleSetName              string         `json:"RuleSetName,omitempty"`
	NotificationTarget       *string        `json:"NotificationTarget,omitempty"`
	AdditionalPlayerCount    *int32         `json:"AdditionalPlayerCount,omitempty"`
	CustomEventData          *string        `json:"CustomEventData,omitempty"`
	GameProperties           []GameProperty `json:"GameProperties,omitempty"`
	GameSessionData          *string        `json:"GameSessionData,omitempty"`
	BackfillMode             string         `json:"BackfillMode,omitempty"`
	FlexMatchMode            string         `json:"FlexMatchMode,omitempty"`
	Tags                     []Tag          `json:"Tags,omitempty"`
}

// CreateMatchmakingConfigurationOutput is the output of CreateMatchmakingConfiguration.
type CreateMatchmakingConfigurationOutput struct {
	Configuration *MatchmakingConfiguration `json:"Configuration,omitempty"`
}

// UpdateMatchmakingConfigurationInput is the input of
// UpdateMatchmakingConfiguration: every member but Name is optional.
type UpdateMatchmakingConfigurationInput struct {
	Name                     string         `json:"Name,omitempty"`
	Description              *string        `json:"Description,omitempty"`
	GameSessionQueueArns     []string       `json:"GameSessionQueueArns,omitempty"`
	RequestTimeoutSeconds    *int32         `json:"RequestTimeoutSeconds,omitempty"`
	AcceptanceTimeoutSeconds *int32         `json:"AcceptanceTimeoutSeconds,omitempty"`
	AcceptanceRequired       *bool          `json:"AcceptanceRequired,omitempty"`
	RuleSetName              string         `json:"RuleSetName,omitempty"`
	NotificationTarget       *string        `json:"NotificationTarget,omitempty"`
	AdditionalPlayerCount    *int32         `json:"AdditionalPlayerCount,omitempty"`
	CustomEventData          *string        `json:"CustomEventData,omitempty"`
	GameProperties           []GameProperty `json:"GameProperties,omitempty"`
	GameSessionData          *string        `json:"GameSessionData,omitempty"`
	BackfillMode             string         `json:"BackfillMode,omitempty"`
	FlexMatchMode            string         `json:"FlexMatchMode,omitempty"`
}

// UpdateMatchmakingConfigurationOutput is the output of UpdateMatchmakingConfiguration.
type UpdateMatchmakingConfigurationOutput struct {
	Configuration *MatchmakingConfiguration `json:"Configuration,omitempty"`
}

// DescribeMatchmakingConfigurationsInput is the input of DescribeMatchmakingConfigurations.
type DescribeMatchmakingConfigurationsInput struct {
	Names       []string `json:"Names,omitempty"`
	RuleSetName string   `json:"RuleSetName,omitempty"`
	Limit       *int32   `json:"Limit,omitempty"`
	NextToken   string   `json:"NextToken,omitempty"`
}

// DescribeMatchmakingConfigurationsOutput is the output of DescribeMatchmakingConfigurations.
type DescribeMatchmakingConfigurationsOutput struct {
	Configurations []MatchmakingConfiguration `json:"Configurations"`
	NextToken      string                     `json:"NextToken,omitempty"`
}

// DeleteMatchmakingConfigurationInput is the input of DeleteMatchmakingConfiguration.
type DeleteMatchmakingConfigurationInput struct {
	Name string `json:"Name,omitempty"`
}

// DeleteMatchmakingConfigurationOutput is the (empty) output of DeleteMatchmakingConfiguration.
type DeleteMatchmakingConfigurationOutput struct{}

// Player is a player of a matchmaking request.
type Player struct {
	PlayerId         string                    `json:"PlayerId,omitempty"`
	PlayerAttributes map[string]AttributeValue `json:"PlayerAttributes,omitempty"`
	Team             string                    `json:"Team,omitempty"`
	LatencyInMs      map[string]int32          `json:"LatencyInMs,omitempty"`
}

// MatchedPlayerSession is a player's session in a matched game session.
type MatchedPlayerSession struct {
	PlayerId        string `json:"PlayerId,omitempty"`
	PlayerSessionId string `json:"PlayerSessionId,omitempty"`
}

// GameSessionConnectionInfo tells matched players where to connect.
type GameSessionConnectionInfo struct {
	GameSessionArn        string                 `json:"GameSessionArn,omitempty"`
	IpAddress             string                 `json:"IpAddress,omitempty"`
	DnsName               string                 `json:"DnsName,omitempty"`
	Port                  *int32                 `json:"Port,omitempty"`
	MatchedPlayerSessions []MatchedPlayerSession `json:"MatchedPlayerSessions,omitempty"`
	PlayerGatewayStatus   string                 `json:"PlayerGatewayStatus,omitempty"`
}

// MatchmakingTicket is a matchmaking or backfill request.
type MatchmakingTicket struct {
	TicketId                  string                     `json:"TicketId,omitempty"`
	ConfigurationName         string                     `json:"ConfigurationName,omitempty"`
	ConfigurationArn          string                     `json:"ConfigurationArn,omitempty"`
	Status                    string                     `json:"Status,omitempty"`
	StatusReason              string                     `json:"StatusReason,omitempty"`
	StatusMessage             string                     `json:"StatusMessage,omitempty"`
	StartTime                 *Timestamp                 `json:"StartTime,omitempty"`
	EndTime                   *Timestamp                 `json:"EndTime,omitempty"`
	Players                   []Player                   `json:"Players,omitempty"`
	GameSessionConnectionInfo *GameSessionConnectionInfo `json:"GameSessionConnectionInfo,omitempty"`
	EstimatedWaitTime         *int32                     `json:"EstimatedWaitTime,omitempty"`
}

// StartMatchmakingInput is the input of StartMatchmaking.
type StartMatchmakingInput struct {
	TicketId          string   `json:"TicketId,omitempty"`
	ConfigurationName string   `json:"ConfigurationName,omitempty"`
	Players           []Player `json:"Players,omitempty"`
}

// StartMatchmakingOutput is the output of StartMatchmaking.
type StartMatchmakingOutput struct {
	MatchmakingTicket *MatchmakingTicket `json:"MatchmakingTicket,omitempty"`
}

// DescribeMatchmakingInput is the input of DescribeMatchmaking.
type DescribeMatchmakingInput struct {
	TicketIds []string `json:"TicketIds,omitempty"`
}

// DescribeMatchmakingOutput is the output of DescribeMatchmaking.
type DescribeMatchmakingOutput struct {
	TicketList []MatchmakingTicket `json:"TicketList"`
}

// StopMatchmakingInput is the input of StopMatchmaking.
type StopMatchmakingInput struct {
	TicketId string `json:"TicketId,omitempty"`
}

// StopMatchmakingOutput is the (empty) output of StopMatchmaking.
type StopMatchmakingOutput struct{}

// AcceptMatchInput is the input of AcceptMatch.
type AcceptMatchInput struct {
	TicketId       string   `json:"TicketId,omitempty"`
	PlayerIds      []string `json:"PlayerIds,omitempty"`
	AcceptanceType string   `json:"AcceptanceType,omitempty"`
}

// AcceptMatchOutput is the (empty) output of AcceptMatch.
type AcceptMatchOutput struct{}

// StartMatchBackfillInput is the input of StartMatchBackfill.
type StartMatchBackfillInput struct {
	TicketId          string   `json:"TicketId,omitempty"`
	ConfigurationName string   `json:"ConfigurationName,omitempty"`
	GameSessionArn    string   `json:"GameSessionArn,omitempty"`
	Players           []Player `json:"Players,omitempty"`
}

// StartMatchBackfillOutput is the output of StartMatchBackfill.
type StartMatchBackfillOutput struct {
	MatchmakingTicket *MatchmakingTicket `json:"MatchmakingTicket,omitempty"`
}
