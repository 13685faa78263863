package session

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// CreateGameSessionIn is CreateGameSessionOn inside the caller's
// transaction: it claims an idle process of the fleet location, creates the
// game session and reserves req.Players, all in w, and pushes
// CreateGameSession to the process after w commits. Placement uses it so
// that claiming a process and fulfilling a placement commit together (a
// crash can never leave a game session without its placement, or a
// placement fulfilled twice).
//
// It fails before writing anything with FleetCapacityExceeded (no idle
// process), InvalidFleetStatus, NotFound or Invalid (no such fleet or
// location), so a caller may try another location in the same transaction
// after those. IdempotencyToken, if set, becomes the game session id; a
// game session with that ARN already existing fails with Conflict.
func (s *Service) CreateGameSessionIn(ctx context.Context, w store.Writer, req PlaceRequest) (GameSession, []PlayerSession, error) {
	id := req.IdempotencyToken
	if id == "" {
		id = "gsess-" + uuid.NewString()
	}
	arn := s.cfg.ARNs.GameSession(req.FleetID, req.Location, id)
	f, _, err := fleet.GetFleet(ctx, w, req.FleetID)
	if err != nil {
		return GameSession{}, nil, err
	}
	if f.Status != gamelift.FleetStatusActive {
		return GameSession{}, nil, fault.New(fault.InvalidFleetStatus, "FleetId: fleet %s is %s", f.ID, f.Status)
	}
	if !f.HasLocation(req.Location) {
		return GameSession{}, nil, fault.New(fault.Invalid, "Location: fleet %s has no location %s", f.ID, req.Location)
	}
	if err := s.checkCreationLimit(ctx, w, f, req.CreatorID); err != nil {
		return GameSession{}, nil, err
	}
	if _, err := w.Get(ctx, KindGameSession, arn); err == nil {
		return GameSession{}, nil, fault.New(fault.Conflict, "game session %s already exists", arn)
	}
	p, err := fleet.ClaimIdleProcess(ctx, w, f, req.Location, arn)
	if err != nil {
		return GameSession{}, nil, err
	}
	now := s.now()
	g := GameSession{ID: arn, FleetID: f.ID, FleetARN: f.ARN, Location: req.Location, Name: req.Name, CreatorID: req.CreatorID,
		MaxPlayers: req.MaxPlayers, Properties: req.Properties, Data: req.Data, MatchmakerData: req.MatchmakerData,
		Status: gamelift.GameSessionActivating, PlayerPolicy: gamelift.AcceptAll, Protection: f.Protection,
		IPAddress: p.IPAddress, DNSName: p.DNSName, Port: p.Port, ComputeName: p.ComputeName, ProcessID: p.ID,
		CreatedAt: now, ActivateBy: now.Add(f.ActivationTimeout()), IdempotencyToken: req.IdempotencyToken}
	if err := putGameSession(ctx, w, g, 0); err != nil {
		return GameSession{}, nil, fmt.Errorf("create game session: %w", err)
	}
	players, err := s.reserveNew(ctx, w, g, req.Players)
	if err != nil {
		return GameSession{}, nil, err
	}
	w.AfterCommit(func() {
		if s.cfg.Pusher != nil {
			s.cfg.Pusher.CreateGameSession(g.ProcessID, g)
		}
	})
	return g, players, nil
}

// reserveNew is reserve for a game session created in this transaction:
// it has no player sessions yet, so none need counting.
func (s *Service) reserveNew(ctx context.Context, w store.Writer, g GameSession, players []DesiredPlayer) ([]PlayerSession, error) {
	if len(players) > int(g.MaxPlayers) {
		return nil, fault.New(fault.GameSessionFull, "game session %s has %d player slots; %d players do not fit", g.ID, g.MaxPlayers, len(players))
	}
	out := make([]PlayerSession, 0, len(players))
	now := s.now()
	for _, dp := range players {
		p := newReservation(g, dp, now)
		if err := putPlayerSession(ctx, w, p, 0); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
