package matchmaking

import (
	"time"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// The records the service stores (kinds and keys in doc.go): tickets with
// their players, and matches.

type playerRec struct {
	ID         string                             `json:"id"`
	Attributes map[string]gamelift.AttributeValue `json:"attributes,omitempty"`
	Latency    map[string]int32                   `json:"latency,omitempty"`
	Team       string                             `json:"team,omitempty"`
	// Session is the player's session id once the match is placed.
	Session string `json:"session,omitempty"`
}

type connRec struct {
	GameSessionArn string `json:"gameSessionArn,omitempty"`
	IPAddress      string `json:"ipAddress,omitempty"`
	DNSName        string `json:"dnsName,omitempty"`
	Port           int32  `json:"port,omitempty"`
}

type ticketRec struct {
	ID         string      `json:"id"`
	ConfigName string      `json:"config"`
	ConfigArn  string      `json:"configArn"`
	Status     string      `json:"status"`
	Reason     string      `json:"reason,omitempty"`
	Message    string      `json:"message,omitempty"`
	Start      time.Time   `json:"start"`
	End        time.Time   `json:"end,omitzero"`
	Players    []playerRec `json:"players"`
	MatchID    string      `json:"matchId,omitempty"`
	Backfill   bool        `json:"backfill,omitempty"`
	Conn       *connRec    `json:"conn,omitempty"`
	PartyID    string      `json:"partyId,omitempty"`
}

func terminal(status string) bool {
	switch status {
	case gamelift.TicketCompleted, gamelift.TicketFailed, gamelift.TicketCancelled, gamelift.TicketTimedOut:
		return true
	}
	return false
}

func (t *ticketRec) wire(wait *int32) gamelift.MatchmakingTicket {
	m := gamelift.MatchmakingTicket{TicketId: t.ID, ConfigurationName: t.ConfigName, ConfigurationArn: t.ConfigArn, Status: t.Status,
		StatusReason: t.Reason, StatusMessage: t.Message, StartTime: gamelift.At(t.Start)}
	if !t.End.IsZero() {
		m.EndTime = gamelift.At(t.End)
	}
	for _, p := range t.Players {
		m.Players = append(m.Players, gamelift.Player{PlayerId: p.ID, PlayerAttributes: p.Attributes, Team: p.Team, LatencyInMs: p.Latency})
	}
	if t.Conn != nil {
		ci := &gamelift.GameSessionConnectionInfo{GameSessionArn: t.Conn.GameSessionArn, IpAddress: t.Conn.IPAddress, DnsName: t.Conn.DNSName}
		if t.Conn.Port > 0 {
			port := t.Conn.Port
			ci.Port = &port
		}
		for _, p := range t.Players {
			if p.Session != "" {
				ci.MatchedPlayerSessions = append(ci.MatchedPlayerSessions, gamelift.MatchedPlayerSession{PlayerId: p.ID, PlayerSessionId: p.Session})
			}
		}
		m.GameSessionConnectionInfo = ci
	}
	if !terminal(t.Status) {
		m.EstimatedWaitTime = wait
	}
	return m
}

// engineTicket is the ticket as the engine takes it.
func (t *ticketRec) engineTicket() flexmatch.Ticket {
	ft := flexmatch.Ticket{ID: t.ID, StartTime: t.Start, Players: make([]flexmatch.Player, len(t.Players))}
	for i, p := range t.Players {
		fp := flexmatch.Player{ID: p.ID, Team: p.Team}
		if len(p.Attributes) > 0 {
			fp.Attributes = make(map[string]flexmatch.AttributeValue, len(p.Attributes))
			for k, v := range p.Attributes {
				fp.Attributes[k] = flexmatch.AttributeValue{S: v.S, N: v.N, SL: v.SL, SDM: v.SDM}
			}
		}
		if len(p.Latency) > 0 {
			fp.LatencyMs = make(map[string]int, len(p.Latency))
			for k, v := range p.Latency {
				fp.LatencyMs[k] = int(v)
			}
		}
		ft.Players[i] = fp
	}
	return ft
}

// Match states.
const (
	matchAcceptance = "acceptance"
	matchPlacing    = "placing"
	matchReserving  = "reserving"
	matchDone       = "done"
	matchFailed     = "failed"
)

type matchRec struct {
	ID         string                    `json:"id"`
	ConfigName string                    `json:"config"`
	TicketIDs  []string                  `json:"ticketIds"`
	Teams      []flexmatch.MatchTeam     `json:"teams"`
	Locations  []flexmatch.MatchLocation `json:"locations,omitempty"`
	Created    time.Time                 `json:"created"`
	State      string                    `json:"state"`
	Deadline   time.Time                 `json:"deadline,omitzero"`
	// NeedAccept lists the players who must accept; Accepted their answers.
	NeedAccept []string        `json:"needAccept,omitempty"`
	Accepted   map[string]bool `json:"accepted,omitempty"`
	// Backfill is the backfill ticket's id, GameSessionArn its session.
	Backfill       string `json:"backfill,omitempty"`
	GameSessionArn string `json:"gameSessionArn,omitempty"`
}

func (m *matchRec) keys() store.Keys {
	var k store.Keys
	switch m.State {
	case matchAcceptance:
		k[0] = m.ConfigName
	case matchPlacing, matchReserving:
		k[1] = m.ConfigName
	}
	return k
}

func activeID(config, player string) string { return config + "/" + player }

// ticketKeys are a ticket's secondary keys (doc.go).
func ticketKeys(r *ticketRec) store.Keys {
	var k store.Keys
	k[1] = r.MatchID
	if terminal(r.Status) {
		return k
	}
	k[0] = r.ConfigName
	if r.Backfill && r.Conn != nil {
		k[2] = r.Conn.GameSessionArn
	}
	return k
}
