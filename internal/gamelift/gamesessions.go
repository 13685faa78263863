package gamelift

// Game session shapes.

// Game session statuses, reasons and policies.
const (
	GameSessionActivating  = "ACTIVATING"
	GameSessionActive      = "ACTIVE"
	GameSessionTerminating = "TERMINATING"
	GameSessionTerminated  = "TERMINATED"
	GameSessionError       = "ERROR"

	ReasonInterrupted                 = "INTERRUPTED"
	ReasonTriggeredOnProcessTerminate = "TRIGGERED_ON_PROCESS_TERMINATE"
	ReasonForceTerminated             = "FORCE_TERMINATED"

	AcceptAll = "ACCEPT_ALL"
	DenyAll   = "DENY_ALL"

	TerminationTriggerOnProcessTerminate = "TRIGGER_ON_PROCESS_TERMINATE"
	TerminationForce                     = "FORCE_TERMINATE"
)

// GameProperty is a key-value pair of a game session.
type GameProperty struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// GameSession is a game session as the control API shows it.
type GameSession struct {
	GameSessionId               string         `json:"GameSessionId,omitempty"`
	Name                        string         `json:"Name,omitempty"`
	FleetId                     string         `json:"FleetId,omitempty"`
	FleetArn                    string         `json:"FleetArn,omitempty"`
	CreationTime                *Timestamp     `json:"CreationTime,omitempty"`
	TerminationTime             *Timestamp     `json:"TerminationTime,omitempty"`
	CurrentPlayerSessionCount   *int32         `json:"CurrentPlayerSessionCount,omitempty"`
	MaximumPlayerSessionCount   *int32         `json:"MaximumPlayerSessionCount,omitempty"`
	Status                      string         `json:"Status,omitempty"`
	StatusReason                string         `json:"StatusReason,omitempty"`
	GameProperties              []GameProperty `json:"GameProperties,omitempty"`
	IpAddress                   string         `json:"IpAddress,omitempty"`
	DnsName                     string         `json:"DnsName,omitempty"`
	Port                        *int32         `json:"Port,omitempty"`
	PlayerSessionCreationPolicy string         `json:"PlayerSessionCreationPolicy,omitempty"`
	CreatorId                   string         `json:"CreatorId,omitempty"`
	GameSessionData             string         `json:"GameSessionData,omitempty"`
	MatchmakerData              string         `json:"MatchmakerData,omitempty"`
	Location                    string         `json:"Location,omitempty"`
	ComputeName                 string         `json:"ComputeName,omitempty"`
}

// GameSessionDetail pairs a game session with its protection policy.
type GameSessionDetail struct {
	GameSession      *GameSession `json:"GameSession,omitempty"`
	ProtectionPolicy string       `json:"ProtectionPolicy,omitempty"`
}

// CreateGameSessionInput is the input of CreateGameSession.
type CreateGameSessionInput struct {
	FleetId                   string         `json:"FleetId,omitempty"`
	AliasId                   string         `json:"AliasId,omitempty"`
	MaximumPlayerSessionCount *int32         `json:"MaximumPlayerSessionCount,omitempty"`
	Name                      string         `json:"Name,omitempty"`
	GameProperties            []GameProperty `json:"GameProperties,omitempty"`
	CreatorId                 string         `json:"CreatorId,omitempty"`
	GameSessionId             string         `json:"GameSessionId,omitempty"`
	IdempotencyToken          string         `json:"IdempotencyToken,omitempty"`
	GameSessionData           string         `json:"GameSessionData,omitempty"`
	Location                  string         `json:"Location,omitempty"`
}

// CreateGameSessionOutput is the output of CreateGameSession.
type CreateGameSessionOutput struct {
	GameSession *GameSession `json:"GameSession,omitempty"`
}

// DescribeGameSessionsInput is the input of DescribeGameSessions and
// DescribeGameSessionDetails.
type DescribeGameSessionsInput struct {
	FleetId       string `json:"FleetId,omitempty"`
	GameSessionId string `json:"GameSessionId,omitempty"`
	AliasId       string `json:"AliasId,omitempty"`
	Location      string `json:"Location,omitempty"`
	StatusFilter  string `json:"StatusFilter,omitempty"`
	Limit         *int32 `json:"Limit,omitempty"`
	NextToken     string `json:"NextToken,omitempty"`
}

// DescribeGameSessionsOutput is the output of DescribeGameSessions.
type DescribeGameSessionsOutput struct {
	GameSessions []GameSession `json:"GameSessions"`
	NextToken    string        `json:"NextToken,omitempty"`
}

// DescribeGameSessionDetailsInput is the input of DescribeGameSessionDetails.
type DescribeGameSessionDetailsInput = DescribeGameSessionsInput

// DescribeGameSessionDetailsOutput is the output of DescribeGameSessionDetails.
type DescribeGameSessionDetailsOutput struct {
	GameSessionDetails []GameSessionDetail `json:"GameSessionDetails"`
	NextToken          string              `json:"NextToken,omitempty"`
}

// SearchGameSessionsInput is the input of SearchGameSessions.
type SearchGameSessionsInput struct {
	FleetId          string `json:"FleetId,omitempty"`
	AliasId          string `json:"AliasId,omitempty"`
	Location         string `json:"Location,omitempty"`
	FilterExpression string `json:"FilterExpression,omitempty"`
	SortExpression   string `json:"SortExpression,omitempty"`
	Limit            *int32 `json:"Limit,omitempty"`
	NextToken        string `json:"NextToken,omitempty"`
}

// SearchGameSessionsOutput is the output of SearchGameSessions.
type SearchGameSessionsOutput struct {
	GameSessions []GameSession `json:"GameSessions"`
	NextToken    string        `json:"NextToken,omitempty"`
}

// UpdateGameSessionInput is the input of UpdateGameSession.
type UpdateGameSessionInput struct {
	GameSessionId               string         `json:"GameSessionId,omitempty"`
	MaximumPlayerSessionCount   *int32         `json:"MaximumPlayerSessionCount,omitempty"`
	Name                        string         `json:"Name,omitempty"`
	PlayerSessionCreationPolicy string         `json:"PlayerSessionCreationPolicy,omitempty"`
	ProtectionPolicy            string         `json:"ProtectionPolicy,omitempty"`
	GameProperties              []GameProperty `json:"GameProperties,omitempty"`
}

// UpdateGameSessionOutput is the output of UpdateGameSession.
type UpdateGameSessionOutput struct {
	GameSession *GameSession `json:"GameSession,omitempty"`
}

// TerminateGameSessionInput is the input of TerminateGameSession.
type TerminateGameSessionInput struct {
	GameSessionId   string `json:"GameSessionId,omitempty"`
	TerminationMode string `json:"TerminationMode,omitempty"`
}

// GetGameSessionLogUrlInput is the input of GetGameSessionLogUrl.
type GetGameSessionLogUrlInput struct {
	GameSessionId string `json:"GameSessionId,omitempty"`
}

// GetGameSessionLogUrlOutput is the output of GetGameSessionLogUrl.
type GetGameSessionLogUrlOutput struct {
	PreSignedUrl string `json:"PreSignedUrl,omitempty"`
}

// TerminateGameSessionOutput is the output of TerminateGameSession.
type TerminateGameSessionOutput struct {
	GameSession *GameSession `json:"GameSession,omitempty"`
}
