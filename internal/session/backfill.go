package session

import (
	"context"

	"github.com/musterhq/muster/internal/fault"
)

// BackfillRequest is a server's StartMatchBackfill.
type BackfillRequest struct {
	GameSessionArn              string
	MatchmakingConfigurationArn string
	TicketID                    string
	Players                     []BackfillPlayer
}

// BackfillPlayer is one player of a backfill request, as the server SDK
// sends it.
type BackfillPlayer struct {
	PlayerId         string                    `json:"PlayerId"`
	Team             string                    `json:"Team,omitempty"`
	PlayerAttributes map[string]AttributeValue `json:"PlayerAttributes,omitempty"`
	LatencyInMs      map[string]int            `json:"LatencyInMs,omitempty"`
}

// AttributeValue is a player attribute as the server SDK sends it
// (AttrType is an SDK addition: STRING, DOUBLE, STRING_LIST,
// STRING_DOUBLE_MAP or NONE).
type AttributeValue struct {
	AttrType string             `json:"AttrType,omitempty"`
	S        string             `json:"S,omitempty"`
	N        float64            `json:"N,omitempty"`
	SL       []string           `json:"SL,omitempty"`
	SDM      map[string]float64 `json:"SDM,omitempty"`
}

// Backfiller starts and stops match backfill for game servers; the
// matchmaking service implements it. It reports results later through
// Service.UpdateMatchmakerData.
type Backfiller interface {
	StartMatchBackfill(ctx context.Context, req BackfillRequest) (ticketID string, err error)
	StopMatchBackfill(ctx context.Context, gameSessionArn, configurationArn, ticketID string) error
}

// NoMatchmaking is the Backfiller until matchmaking exists: every call
// fails with a clear error.
type NoMatchmaking struct{}

// StartMatchBackfill fails: matchmaking is not available yet.
func (NoMatchmaking) StartMatchBackfill(context.Context, BackfillRequest) (string, error) {
	return "", fault.New(fault.Unsupported, "matchmaking is not available yet: StartMatchBackfill cannot be served")
}

// StopMatchBackfill fails: matchmaking is not available yet.
func (NoMatchmaking) StopMatchBackfill(context.Context, string, string, string) error {
	return fault.New(fault.Unsupported, "matchmaking is not available yet: StopMatchBackfill cannot be served")
}
