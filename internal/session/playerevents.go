package session

import (
	"context"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// The outbox events of player sessions, one for each status a player
// session enters, so a player's stream (package push) can tell it that
// its seat is reserved, taken, over or lost. GameLift has none: these are
// Muster's, and their document is PlayerSessionEvent, not an EventBridge
// envelope.
const (
	EventPlayerSessionReserved  = "PlayerSessionReserved"
	EventPlayerSessionActivated = "PlayerSessionActivated"
	EventPlayerSessionCompleted = "PlayerSessionCompleted"
	EventPlayerSessionTimedOut  = "PlayerSessionTimedOut"
)

var playerSessionEvents = map[string]string{
	gamelift.PlayerSessionReserved:  EventPlayerSessionReserved,
	gamelift.PlayerSessionActive:    EventPlayerSessionActivated,
	gamelift.PlayerSessionCompleted: EventPlayerSessionCompleted,
	gamelift.PlayerSessionTimedOut:  EventPlayerSessionTimedOut,
}

// PlayerSessionEventTypes are the player session events' types.
func PlayerSessionEventTypes() []string {
	return []string{EventPlayerSessionReserved, EventPlayerSessionActivated, EventPlayerSessionCompleted, EventPlayerSessionTimedOut}
}

// PlayerSessionEvent is a player session event's document: the player
// session in camelCase, without its player data (which the game server,
// not the stream, is for).
type PlayerSessionEvent struct {
	PlayerSessionID string `json:"playerSessionId"`
	PlayerID        string `json:"playerId"`
	GameSessionID   string `json:"gameSessionId"`
	FleetID         string `json:"fleetId"`
	Status          string `json:"status"`
	IPAddress       string `json:"ipAddress,omitempty"`
	DNSName         string `json:"dnsName,omitempty"`
	Port            int32  `json:"port,omitempty"`
	CreationTime    string `json:"creationTime"`
	TerminationTime string `json:"terminationTime,omitempty"`
}

// appendPlayerSessionEvent records, in w's transaction, that p entered
// its status.
func appendPlayerSessionEvent(ctx context.Context, w store.Writer, p PlayerSession) error {
	typ, ok := playerSessionEvents[p.Status]
	if !ok {
		return nil
	}
	d := PlayerSessionEvent{PlayerSessionID: p.ID, PlayerID: p.PlayerID, GameSessionID: p.GameSessionID, FleetID: p.FleetID,
		Status: p.Status, IPAddress: p.IPAddress, DNSName: p.DNSName, Port: p.Port, CreationTime: gamelift.At(p.CreatedAt).String()}
	if !p.TerminatedAt.IsZero() {
		d.TerminationTime = gamelift.At(p.TerminatedAt).String()
	}
	return w.Append(ctx, store.Event{Type: typ, Resource: p.ID, Doc: store.MustJSON(d)})
}
