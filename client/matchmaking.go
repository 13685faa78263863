package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// Ticket statuses (GameLift's).
const (
	StatusQueued             = "QUEUED"
	StatusSearching          = "SEARCHING"
	StatusRequiresAcceptance = "REQUIRES_ACCEPTANCE"
	StatusPlacing            = "PLACING"
	StatusCompleted          = "COMPLETED"
	StatusFailed             = "FAILED"
	StatusTimedOut           = "TIMED_OUT"
	StatusCancelled          = "CANCELLED"
)

// Ticket is a matchmaking ticket as its players see it.
type Ticket struct {
	TicketID          string `json:"ticketId"`
	ConfigurationName string `json:"configurationName"`
	// Status is one of the Status constants.
	Status string `json:"status"`
	// MatchID names the match the ticket is in while it is
	// REQUIRES_ACCEPTANCE, PLACING or COMPLETED: a new id is a new
	// proposal (servers before it was added leave it empty).
	MatchID       string `json:"matchId,omitempty"`
	StatusReason  string `json:"statusReason,omitempty"`
	StatusMessage string `json:"statusMessage,omitempty"`
	// StartTime and EndTime are RFC 3339 times ("" when not set).
	StartTime string `json:"startTime,omitempty"`
	EndTime   string `json:"endTime,omitempty"`
	// EstimatedWaitTime is in seconds, when the server has an estimate.
	EstimatedWaitTime *int           `json:"estimatedWaitTime,omitempty"`
	Players           []TicketPlayer `json:"players"`
	// GameSessionConnectionInfo says where the match is played, once the
	// ticket is COMPLETED in a configuration that places game sessions.
	GameSessionConnectionInfo *ConnectionInfo `json:"gameSessionConnectionInfo,omitempty"`
}

// Terminal reports whether the ticket's status is final.
func (t *Ticket) Terminal() bool {
	switch t.Status {
	case StatusCompleted, StatusFailed, StatusTimedOut, StatusCancelled:
		return true
	}
	return false
}

// TicketPlayer is a player of a ticket and, once matched, their team.
type TicketPlayer struct {
	PlayerID string `json:"playerId"`
	Team     string `json:"team,omitempty"`
}

// ConnectionInfo says where a matched game runs.
type ConnectionInfo struct {
	GameSessionArn        string                 `json:"gameSessionArn,omitempty"`
	IPAddress             string                 `json:"ipAddress,omitempty"`
	DNSName               string                 `json:"dnsName,omitempty"`
	Port                  int                    `json:"port,omitempty"`
	MatchedPlayerSessions []MatchedPlayerSession `json:"matchedPlayerSessions"`
}

// MatchedPlayerSession is a player's reserved seat in the matched game:
// the game client hands PlayerSessionID to the game server, which
// validates it with Muster (AcceptPlayerSession).
type MatchedPlayerSession struct {
	PlayerID        string `json:"playerId"`
	PlayerSessionID string `json:"playerSessionId"`
}

// TicketOption changes a ticket request.
type TicketOption func(*ticketRequest)

// ForParty asks for a match for the whole party partyID, which the caller
// leads; each member's own latencies (given when joining) are used.
func ForParty(partyID string) TicketOption { return func(r *ticketRequest) { r.PartyID = partyID } }

type ticketRequest struct {
	ConfigurationName string         `json:"configurationName"`
	LatencyInMs       map[string]int `json:"latencyInMs,omitempty"`
	PartyID           string         `json:"partyId,omitempty"`
}

// StartMatchmaking asks for a match in the matchmaking configuration
// named configuration, with the player's latencies to locations in
// milliseconds (MeasureLatencies; nil when the configuration does not use
// them). The operator chooses which configurations players may use (403
// otherwise); the player's matchmaking attributes come from their player
// record, never from the client. The ticket starts QUEUED: follow it with
// Wait.
func (c *Client) StartMatchmaking(ctx context.Context, configuration string, latencies map[string]int, opts ...TicketOption) (*Ticket, error) {
	in := ticketRequest{ConfigurationName: configuration, LatencyInMs: latencies}
	for _, o := range opts {
		o(&in)
	}
	var t Ticket
	if err := c.call(ctx, request{method: http.MethodPost, path: "/v1/matchmaking/tickets", player: true, in: in, out: &t}); err != nil {
		return nil, err
	}
	return &t, nil
}

// Ticket reads a ticket the player is in (404 otherwise).
func (c *Client) Ticket(ctx context.Context, ticketID string) (*Ticket, error) {
	var t Ticket
	if err := c.call(ctx, request{method: http.MethodGet, path: ticketPath(ticketID, ""), player: true, out: &t}); err != nil {
		return nil, err
	}
	return &t, nil
}

// CancelTicket cancels a ticket the player is in; the server refuses (400)
// once the ticket is PLACING or finished.
func (c *Client) CancelTicket(ctx context.Context, ticketID string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: ticketPath(ticketID, ""), player: true})
}

// AcceptMatch accepts (or rejects) for the player the match proposed to a
// ticket in REQUIRES_ACCEPTANCE.
func (c *Client) AcceptMatch(ctx context.Context, ticketID string, accept bool) error {
	in := struct {
		Accept bool `json:"accept"`
	}{accept}
	return c.call(ctx, request{method: http.MethodPost, path: ticketPath(ticketID, "/accept"), player: true, in: in})
}

// Explanation says why a ticket is where it is.
type Explanation struct {
	TicketID string `json:"ticketId"`
	Status   string `json:"status"`
	// Text is the explanation for people.
	Text string `json:"text"`
	// Engine is the matchmaker's own account while the ticket searches
	// (only what concerns the player's ticket).
	Engine json.RawMessage `json:"engine,omitempty"`
}

// Explain asks the server why the ticket is not matched yet.
func (c *Client) Explain(ctx context.Context, ticketID string) (*Explanation, error) {
	var x Explanation
	if err := c.call(ctx, request{method: http.MethodGet, path: ticketPath(ticketID, "/explain"), player: true, out: &x}); err != nil {
		return nil, err
	}
	return &x, nil
}

func ticketPath(id, suffix string) string {
	return "/v1/matchmaking/tickets/" + url.PathEscape(id) + suffix
}

// Party is a group of players matched together, on one team.
type Party struct {
	PartyID  string        `json:"partyId"`
	LeaderID string        `json:"leaderId"`
	Members  []PartyMember `json:"members"`
	// InviteCode lets other players join (JoinParty).
	InviteCode string `json:"inviteCode,omitempty"`
}

// PartyMember is a member of a party.
type PartyMember struct {
	IdentityID string `json:"identityId"`
}

// UnmarshalJSON reads a member as an object or as a bare identity id.
func (m *PartyMember) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &m.IdentityID)
	}
	type plain PartyMember
	return json.Unmarshal(b, (*plain)(m))
}

// CreateParty makes a party led by the player, with the player's latencies
// (nil when not used).
func (c *Client) CreateParty(ctx context.Context, latencies map[string]int) (*Party, error) {
	in := struct {
		LatencyInMs map[string]int `json:"latencyInMs,omitempty"`
	}{latencies}
	return c.party(ctx, http.MethodPost, "/v1/parties", in)
}

// JoinParty joins a party with its invite code (a player is in one party
// at a time), with the player's latencies.
func (c *Client) JoinParty(ctx context.Context, partyID, inviteCode string, latencies map[string]int) (*Party, error) {
	in := struct {
		InviteCode  string         `json:"inviteCode"`
		LatencyInMs map[string]int `json:"latencyInMs,omitempty"`
	}{inviteCode, latencies}
	return c.party(ctx, http.MethodPost, partyPath(partyID, "/join"), in)
}

// Party reads a party the player is in.
func (c *Client) Party(ctx context.Context, partyID string) (*Party, error) {
	return c.party(ctx, http.MethodGet, partyPath(partyID, ""), nil)
}

// LeaveParty leaves a party; the next member leads when the leader leaves.
func (c *Client) LeaveParty(ctx context.Context, partyID string) error {
	return c.call(ctx, request{method: http.MethodPost, path: partyPath(partyID, "/leave"), player: true})
}

func (c *Client) party(ctx context.Context, method, path string, in any) (*Party, error) {
	var p Party
	if err := c.call(ctx, request{method: method, path: path, player: true, in: in, out: &p}); err != nil {
		return nil, err
	}
	return &p, nil
}

func partyPath(id, suffix string) string { return "/v1/parties/" + url.PathEscape(id) + suffix }
