package flexmatch

import (
	"time"
)

// AttributeValue is one player attribute, shaped like GameLift's
// AttributeValue: exactly one of S, N, SL and SDM is set.
type AttributeValue struct {
	S   *string            `json:"S,omitempty"`
	N   *float64           `json:"N,omitempty"`
	SL  []string           `json:"SL,omitempty"`
	SDM map[string]float64 `json:"SDM,omitempty"`
}

// String returns a string attribute value.
func String(s string) AttributeValue { return AttributeValue{S: &s} }

// Number returns a number attribute value.
func Number(n float64) AttributeValue { return AttributeValue{N: &n} }

// StringList returns a string_list attribute value.
func StringList(l ...string) AttributeValue {
	if l == nil {
		l = []string{}
	}
	return AttributeValue{SL: l}
}

// StringNumberMap returns a string_number_map attribute value.
func StringNumberMap(m map[string]float64) AttributeValue {
	if m == nil {
		m = map[string]float64{}
	}
	return AttributeValue{SDM: m}
}

// Player is one player of a ticket.
type Player struct {
	ID         string                    `json:"playerId"`
	Attributes map[string]AttributeValue `json:"attributes,omitempty"`
	// LatencyMs maps a location name to the player's latency there.
	LatencyMs map[string]int `json:"latencyInMs,omitempty"`
	// Team, when set, is the only team the player may be placed on. For
	// backfill it is the team the player already plays on.
	Team string `json:"team,omitempty"`
}

// Ticket is a matchmaking request: one player or a party that must stay
// together on one team.
type Ticket struct {
	ID        string    `json:"ticketId"`
	Players   []Player  `json:"players"`
	StartTime time.Time `json:"startTime"`
}

// Match is a match the engine formed.
type Match struct {
	// BackfillID is set when the match fills a backfill request registered
	// with AddBackfill: Teams then hold the full roster and TicketIDs only
	// the new tickets.
	BackfillID string `json:"backfillTicketId,omitempty"`
	// TicketIDs lists the tickets in the match, oldest first.
	TicketIDs []string `json:"ticketIds"`
	// Teams lists every team of the match in rule-set order (copies made by
	// quantity appear individually), possibly with no players.
	Teams []MatchTeam `json:"teams"`
	// Locations are the locations acceptable to every player, best (lowest
	// average latency) first. Empty when no player reported latency.
	Locations []MatchLocation `json:"locations,omitempty"`
	// Step is the expansion step the match was formed at (0 = base values).
	Step int `json:"step"`
}

// MatchTeam is one team of a match.
type MatchTeam struct {
	Name      string   `json:"name"`
	PlayerIDs []string `json:"playerIds"`
}

// MatchLocation is a location where a match may be placed.
type MatchLocation struct {
	Location string  `json:"location"`
	AvgMs    float64 `json:"avgMs"`
	MaxMs    int     `json:"maxMs"`
}

// PlayerCount returns the number of players in the match.
func (m Match) PlayerCount() int {
	n := 0
	for _, t := range m.Teams {
		n += len(t.PlayerIDs)
	}
	return n
}
