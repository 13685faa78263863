package hook

import (
	"encoding/json"

	"github.com/musterhq/muster/internal/gamelift"
)

// The bodies Muster sends and the answers it accepts (docs in doc.go).
// Every call is a POST of JSON signed per Standard Webhooks; the answer is
// 200 with a JSON body, decoded strictly: unknown members, repeated keys
// and wrong types make it a bad answer.

// PlayerRecord is a player's record in the player data table.
type PlayerRecord struct {
	Attributes map[string]gamelift.AttributeValue `json:"attributes"`
	Data       map[string]json.RawMessage         `json:"data"`
}

// TicketCall is the body of a beforeTicket call.
type TicketCall struct {
	Point string `json:"point"`
	// PlayerID is the caller: the party's leader for a party's ticket.
	PlayerID          string `json:"playerId"`
	ConfigurationName string `json:"configurationName"`
	PartyID           string `json:"partyId,omitempty"`
	// AttributeTypes are the player attributes the configuration's rule
	// set declares: what an answer may add.
	AttributeTypes map[string]string `json:"attributeTypes"`
	Players        []TicketPlayer    `json:"players"`
}

// TicketPlayer is one player of a ticket.
type TicketPlayer struct {
	PlayerID    string           `json:"playerId"`
	LatencyInMs map[string]int32 `json:"latencyInMs"`
	// Attributes are what the ticket carries so far (after earlier hooks).
	Attributes map[string]gamelift.AttributeValue `json:"attributes"`
	Record     PlayerRecord                       `json:"record"`
	// SignInData is what beforeSignIn hooks attached at the player's last
	// sign-in or refresh.
	SignInData json.RawMessage `json:"signInData,omitempty"`
}

// TicketAnswer answers a beforeTicket call.
type TicketAnswer struct {
	Allow bool `json:"allow" muster:"required"`
	// Reason is required with a refusal and shown to the player.
	Reason string `json:"reason,omitempty"`
	// ConfigurationName, when set, moves the ticket to another
	// configuration open to players.
	ConfigurationName string `json:"configurationName,omitempty"`
	// Attributes adds or overrides attributes, by player id then name.
	Attributes map[string]map[string]gamelift.AttributeValue `json:"attributes,omitempty"`
}

// SignInCall is the body of a beforeSignIn call.
type SignInCall struct {
	Point    string       `json:"point"`
	PlayerID string       `json:"playerId"`
	Method   string       `json:"method"`
	Created  bool         `json:"created"`
	Refresh  bool         `json:"refresh"`
	Record   PlayerRecord `json:"record"`
}

// SignInAnswer answers a beforeSignIn call.
type SignInAnswer struct {
	Allow  bool   `json:"allow" muster:"required"`
	Reason string `json:"reason,omitempty"`
	// Data, a JSON object, is kept on the server and given to later hooks
	// as the player's signInData.
	Data json.RawMessage `json:"data,omitempty"`
}

// MatchCall is the body of a matchProposed call.
type MatchCall struct {
	Point             string        `json:"point"`
	ConfigurationName string        `json:"configurationName"`
	Tickets           []MatchTicket `json:"tickets"`
}

// MatchTicket is one ticket of a proposed match.
type MatchTicket struct {
	TicketID string        `json:"ticketId"`
	Players  []MatchPlayer `json:"players"`
}

// MatchPlayer is one player of a proposed match.
type MatchPlayer struct {
	PlayerID   string                             `json:"playerId"`
	Team       string                             `json:"team,omitempty"`
	Attributes map[string]gamelift.AttributeValue `json:"attributes"`
	SignInData json.RawMessage                    `json:"signInData,omitempty"`
}

// MatchAnswer answers a matchProposed call.
type MatchAnswer struct {
	Allow  bool   `json:"allow" muster:"required"`
	Reason string `json:"reason,omitempty"`
}
