package gamelift

// Player session shapes.

// Player session statuses.
const (
	PlayerSessionReserved  = "RESERVED"
	PlayerSessionActive    = "ACTIVE"
	PlayerSessionCompleted = "COMPLETED"
	PlayerSessionTimedOut  = "TIMEDOUT"
)

// PlayerSession is one player's reserved or used slot in a game session.
type PlayerSession struct {
	PlayerSessionId string     `json:"PlayerSessionId,omitempty"`
	PlayerId        string     `json:"PlayerId,omitempty"`
	GameSessionId   string     `json:"GameSessionId,omitempty"`
	FleetId         string     `json:"FleetId,omitempty"`
	FleetArn        string     `json:"FleetArn,omitempty"`
	CreationTime    *Timestamp `json:"CreationTime,omitempty"`
	TerminationTime *Timestamp `json:"TerminationTime,omitempty"`
	Status          string     `json:"Status,omitempty"`
	IpAddress       string     `json:"IpAddress,omitempty"`
	DnsName         string     `json:"DnsName,omitempty"`
	Port            *int32     `json:"Port,omitempty"`
	PlayerData      string     `json:"PlayerData,omitempty"`
}

// CreatePlayerSessionInput is the input of CreatePlayerSession.
type CreatePlayerSessionInput struct {
	GameSessionId string `json:"GameSessionId,omitempty"`
	PlayerId      string `json:"PlayerId,omitempty"`
	PlayerData    string `json:"PlayerData,omitempty"`
}

// CreatePlayerSessionOutput is the output of CreatePlayerSession.
type CreatePlayerSessionOutput struct {
	PlayerSession *PlayerSession `json:"PlayerSession,omitempty"`
}

// CreatePlayerSessionsInput is the input of CreatePlayerSessions.
type CreatePlayerSessionsInput struct {
	GameSessionId string            `json:"GameSessionId,omitempty"`
	PlayerIds     []string          `json:"PlayerIds,omitempty"`
	PlayerDataMap map[string]string `json:"PlayerDataMap,omitempty"`
}

// CreatePlayerSessionsOutput is the output of CreatePlayerSessions.
type CreatePlayerSessionsOutput struct {
	PlayerSessions []PlayerSession `json:"PlayerSessions"`
}

// DescribePlayerSessionsInput is the input of DescribePlayerSessions.
type DescribePlayerSessionsInput struct {
	GameSessionId             string `json:"GameSessionId,omitempty"`
	PlayerId                  string `json:"PlayerId,omitempty"`
	PlayerSessionId           string `json:"PlayerSessionId,omitempty"`
	PlayerSessionStatusFilter string `json:"PlayerSessionStatusFilter,omitempty"`
	Limit                     *int32 `json:"Limit,omitempty"`
	NextToken                 string `json:"NextToken,omitempty"`
}

// DescribePlayerSessionsOutput is the output of DescribePlayerSessions.
type DescribePlayerSessionsOutput struct {
	PlayerSessions []PlayerSession `json:"PlayerSessions"`
	NextToken      string          `json:"NextToken,omitempty"`
}
