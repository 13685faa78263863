package sdk

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/musterhq/muster/internal/session"
)

// Actions the SDK sends.
const (
	ActionActivateServerProcess             = "ActivateServerProcess"
	ActionHeartbeatServerProcess            = "HeartbeatServerProcess"
	ActionActivateGameSession               = "ActivateGameSession"
	ActionAcceptPlayerSession               = "AcceptPlayerSession"
	ActionRemovePlayerSession               = "RemovePlayerSession"
	ActionDescribePlayerSessions            = "DescribePlayerSessions"
	ActionUpdatePlayerSessionCreationPolicy = "UpdatePlayerSessionCreationPolicy"
	ActionStartMatchBackfill                = "StartMatchBackfill"
	ActionStopMatchBackfill                 = "StopMatchBackfill"
	ActionTerminateServerProcess            = "TerminateServerProcess"
	ActionGetComputeCertificate             = "GetComputeCertificate"
	ActionGetFleetRoleCredentials           = "GetFleetRoleCredentials"
)

// Pushes the server sends.
const (
	PushCreateGameSession = "CreateGameSession"
	PushUpdateGameSession = "UpdateGameSession"
	PushTerminateProcess  = "TerminateProcess"
	PushRefreshConnection = "RefreshConnection"
)

// Request is any SDK request: the envelope and the union of every
// action's fields (they sit at the top level of the message).
type Request struct {
	Action    string `json:"Action"`
	RequestId string `json:"RequestId"`

	// ActivateServerProcess
	SdkVersion     string   `json:"SdkVersion"`
	SdkLanguage    string   `json:"SdkLanguage"`
	SdkToolName    string   `json:"SdkToolName"`
	SdkToolVersion string   `json:"SdkToolVersion"`
	Port           int32    `json:"Port"`
	LogPaths       []string `json:"LogPaths"`
	// HeartbeatServerProcess
	HealthStatus bool `json:"HealthStatus"`
	// game and player sessions
	GameSessionId             string `json:"GameSessionId"`
	PlayerSessionId           string `json:"PlayerSessionId"`
	PlayerId                  string `json:"PlayerId"`
	PlayerSessionStatusFilter string `json:"PlayerSessionStatusFilter"`
	PlayerSessionPolicy       string `json:"PlayerSessionPolicy"`
	NextToken                 string `json:"NextToken"`
	Limit                     int    `json:"Limit"`
	// backfill
	GameSessionArn              string                   `json:"GameSessionArn"`
	MatchmakingConfigurationArn string                   `json:"MatchmakingConfigurationArn"`
	TicketId                    string                   `json:"TicketId"`
	Players                     []session.BackfillPlayer `json:"Players"`
	// GetFleetRoleCredentials
	RoleArn         string `json:"RoleArn"`
	RoleSessionName string `json:"RoleSessionName"`
}

// errNoRequestID means a message carried no RequestId to answer to.
var errNoRequestID = errors.New("message has no RequestId")

// DecodeRequest decodes one text frame. When the frame is a JSON object
// with a RequestId but a member has the wrong type, it returns the
// envelope (so the request can be answered with an error) and the error.
func DecodeRequest(data []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(data, &r); err != nil {
		var env struct {
			Action    string `json:"Action"`
			RequestId string `json:"RequestId"`
		}
		if json.Unmarshal(data, &env) == nil {
			r = Request{Action: env.Action, RequestId: env.RequestId}
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return r, fmt.Errorf("member %s: expected %s, got a JSON %s", te.Field, te.Type, te.Value)
		}
		return r, fmt.Errorf("the message is not a JSON object: %w", err)
	}
	if r.RequestId == "" {
		return r, errNoRequestID
	}
	return r, nil
}

// Envelope starts every response.
type Envelope struct {
	Action       string `json:"Action"`
	RequestId    string `json:"RequestId,omitempty"`
	StatusCode   int    `json:"StatusCode"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// PlayerSession is a player session as the SDK reads it: times are
// integer epoch milliseconds.
type PlayerSession struct {
	PlayerId        string `json:"PlayerId"`
	PlayerSessionId string `json:"PlayerSessionId"`
	GameSessionId   string `json:"GameSessionId"`
	FleetId         string `json:"FleetId"`
	PlayerData      string `json:"PlayerData"`
	IpAddress       string `json:"IpAddress"`
	Port            int    `json:"Port"`
	CreationTime    int64  `json:"CreationTime"`
	TerminationTime int64  `json:"TerminationTime"`
	DnsName         string `json:"DnsName"`
	Status          string `json:"Status"`
}

type describePlayerSessionsResponse struct {
	Envelope
	NextToken      string          `json:"NextToken,omitempty"`
	PlayerSessions []PlayerSession `json:"PlayerSessions"`
}

type startMatchBackfillResponse struct {
	Envelope
	TicketId string `json:"TicketId"`
}

type computeCertificateResponse struct {
	Envelope
	CertificatePath string `json:"CertificatePath"`
	ComputeName     string `json:"ComputeName"`
}

// GameSession is a game session as the SDK reads it inside pushes.
type GameSession struct {
	GameSessionId             string            `json:"GameSessionId"`
	GameSessionData           string            `json:"GameSessionData,omitempty"`
	Name                      string            `json:"Name,omitempty"`
	MatchmakerData            string            `json:"MatchmakerData,omitempty"`
	FleetId                   string            `json:"FleetId"`
	Location                  string            `json:"Location,omitempty"`
	MaximumPlayerSessionCount int               `json:"MaximumPlayerSessionCount"`
	IpAddress                 string            `json:"IpAddress,omitempty"`
	Port                      int               `json:"Port"`
	DnsName                   string            `json:"DnsName,omitempty"`
	GameProperties            map[string]string `json:"GameProperties"`
	Status                    string            `json:"Status,omitempty"`
	StatusReason              string            `json:"StatusReason,omitempty"`
}

// createGameSessionPush is flat, with GameSessionName (not Name).
type createGameSessionPush struct {
	Action                    string            `json:"Action"`
	StatusCode                int               `json:"StatusCode"`
	GameSessionId             string            `json:"GameSessionId"`
	GameSessionName           string            `json:"GameSessionName,omitempty"`
	GameSessionData           string            `json:"GameSessionData,omitempty"`
	MatchmakerData            string            `json:"MatchmakerData,omitempty"`
	MaximumPlayerSessionCount int               `json:"MaximumPlayerSessionCount"`
	Port                      int               `json:"Port"`
	IpAddress                 string            `json:"IpAddress,omitempty"`
	DnsName                   string            `json:"DnsName,omitempty"`
	GameProperties            map[string]string `json:"GameProperties"`
}

type updateGameSessionPush struct {
	Action           string      `json:"Action"`
	StatusCode       int         `json:"StatusCode"`
	GameSession      GameSession `json:"GameSession"`
	UpdateReason     string      `json:"UpdateReason"`
	BackfillTicketId string      `json:"BackfillTicketId,omitempty"`
}

type refreshConnectionPush struct {
	Action                    string `json:"Action"`
	StatusCode                int    `json:"StatusCode"`
	RefreshConnectionEndpoint string `json:"RefreshConnectionEndpoint"`
	AuthToken                 string `json:"AuthToken"`
}

type terminateProcessPush struct {
	Action          string `json:"Action"`
	StatusCode      int    `json:"StatusCode"`
	TerminationTime int64  `json:"TerminationTime"`
}

func properties(g session.GameSession) map[string]string {
	m := make(map[string]string, len(g.Properties))
	for _, p := range g.Properties {
		m[p.Key] = p.Value
	}
	return m
}

func sdkGameSession(g session.GameSession) GameSession {
	return GameSession{GameSessionId: g.ID, GameSessionData: g.Data, Name: g.Name, MatchmakerData: g.MatchmakerData, FleetId: g.FleetID,
		Location: g.Location, MaximumPlayerSessionCount: int(g.MaxPlayers), IpAddress: g.IPAddress, Port: int(g.Port), DnsName: g.DNSName,
		GameProperties: properties(g), Status: g.Status, StatusReason: g.StatusReason}
}

func sdkPlayerSession(p session.PlayerSession) PlayerSession {
	out := PlayerSession{PlayerId: p.PlayerID, PlayerSessionId: p.ID, GameSessionId: p.GameSessionID, FleetId: p.FleetID,
		PlayerData: p.PlayerData, IpAddress: p.IPAddress, Port: int(p.Port), CreationTime: p.CreatedAt.UnixMilli(), DnsName: p.DNSName, Status: p.Status}
	if !p.TerminatedAt.IsZero() {
		out.TerminationTime = p.TerminatedAt.UnixMilli()
	}
	return out
}
