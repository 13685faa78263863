package session

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
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
	LatencyInMs      map[string]int32          `json:"LatencyInMs,omitempty"`
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

// NoMatchmaking is the Backfiller of a server without matchmaking: every
// call fails with a clear error.
type NoMatchmaking struct{}

// StartMatchBackfill fails: there is no matchmaking to backfill with.
func (NoMatchmaking) StartMatchBackfill(context.Context, BackfillRequest) (string, error) {
	return "", fault.New(fault.Unsupported, "matchmaking is not available on this server: StartMatchBackfill cannot be served")
}

// StopMatchBackfill fails: there is no matchmaking to backfill with.
func (NoMatchmaking) StopMatchBackfill(context.Context, string, string, string) error {
	return fault.New(fault.Unsupported, "matchmaking is not available on this server: StopMatchBackfill cannot be served")
}

// backfillTickets is the UUID namespace of the backfill ticket ids derived
// from server SDK calls.
var backfillTickets = uuid.MustParse("6d2f5a4e-2b7c-4d1e-9a43-8c0f3e7b5a21")

// ProcessBackfill checks a server process's StartMatchBackfill before it
// goes to the Backfiller: the process may backfill only a game session it
// hosts. When the call names no ticket, the ticket id is derived from the
// process, requestID (the SDK call's RequestId) and the request itself, so
// a call the SDK re-sends after a restart of the control plane finds the
// ticket the first one started, while a game that sends a request object
// again with other players (the Go SDK keeps its RequestId) starts a new
// backfill rather than being refused as a changed copy of the first. It
// returns req with its ticket id.
func (s *Service) ProcessBackfill(ctx context.Context, processID, requestID string, req BackfillRequest) (BackfillRequest, error) {
	if err := s.HostedBy(ctx, processID, req.GameSessionArn); err != nil {
		return req, err
	}
	if req.TicketID == "" {
		body, err := json.Marshal(req)
		if err != nil {
			return req, fmt.Errorf("backfill request: %w", err)
		}
		req.TicketID = uuid.NewSHA1(backfillTickets, append([]byte(processID+"/"+requestID+"/"), body...)).String()
	}
	return req, nil
}

// HostedBy checks that a server process acts on a game session it hosts
// (fault.Forbidden if not, fault.NotFound for an unknown game session).
func (s *Service) HostedBy(ctx context.Context, processID, gameSessionID string) error {
	return s.cfg.Store.View(ctx, func(r store.Reader) error {
		_, _, err := s.processSession(ctx, r, processID, gameSessionID)
		return err
	})
}
