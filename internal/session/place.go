package session

import (
	"context"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/ids"
	"github.com/musterhq/muster/internal/store"
)

// PlaceRequest asks for a game session on a given fleet location, with
// player sessions reserved in the same transaction (for placement).
type PlaceRequest struct {
	FleetID          string
	Location         string
	MaxPlayers       int32
	Name             string
	Properties       []gamelift.GameProperty
	Data             string
	MatchmakerData   string
	CreatorID        string
	IdempotencyToken string
	Players          []DesiredPlayer
}

// DesiredPlayer is a player to reserve a slot for.
type DesiredPlayer struct {
	PlayerID   string
	PlayerData string
}

// CreateGameSessionOn starts a game session on an idle process of the
// fleet location, reserving player sessions for req.Players in the same
// transaction, and pushes CreateGameSession to the process once committed.
// It fails with FleetCapacityExceeded when no process is idle there. With
// an IdempotencyToken that was used before, it returns the session made
// then (and its player sessions are not made again).
func (s *Service) CreateGameSessionOn(ctx context.Context, req PlaceRequest) (GameSession, []PlayerSession, error) {
	var g GameSession
	var players []PlayerSession
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if req.IdempotencyToken != "" {
			old, _, err := s.getGameSession(ctx, w, s.cfg.ARNs.GameSession(req.FleetID, req.Location, req.IdempotencyToken))
			if err == nil {
				g = old
				return nil
			}
			if !fault.Is(err, fault.NotFound) {
				return err
			}
		}
		var err error
		g, players, err = s.CreateGameSessionIn(ctx, w, req)
		return err
	})
	if err != nil {
		return GameSession{}, nil, fmt.Errorf("create game session: %w", err)
	}
	return g, players, nil
}

func (s *Service) checkCreationLimit(ctx context.Context, r store.Reader, f fleet.Fleet, creator string) error {
	p := f.CreationLimit
	if creator == "" || p == nil || p.NewGameSessionsPerCreator == nil || p.PolicyPeriodInMinutes == nil || *p.PolicyPeriodInMinutes == 0 {
		return nil
	}
	since := s.now().Add(-time.Duration(*p.PolicyPeriodInMinutes) * time.Minute)
	items, err := r.Find(ctx, store.Query{Kind: KindGameSession, Key: 3, Value: f.ID + "/" + creator, Limit: 10000})
	if err != nil {
		return err
	}
	gs, err := store.Decode[GameSession](items)
	if err != nil {
		return err
	}
	n := 0
	for _, g := range gs {
		if g.CreatedAt.After(since) {
			n++
		}
	}
	if n >= int(*p.NewGameSessionsPerCreator) {
		return fault.New(fault.LimitExceeded, "CreatorId: %s already created %d game sessions in the last %d minutes (fleet ResourceCreationLimitPolicy)", creator, n, *p.PolicyPeriodInMinutes)
	}
	return nil
}

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
		id = "gsess-" + ids.UUID()
	}
	arn := s.cfg.ARNs.GameSession(req.FleetID, req.Location, id)
	f, err := fleet.GetActiveFleet(ctx, w, req.FleetID)
	if err != nil {
		return GameSession{}, nil, err
	}
	if !f.HasLocation(req.Location) {
		return GameSession{}, nil, fault.BadField("Location", "fleet %s has no location %s", f.ID, req.Location)
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
	players, err := s.reserve(ctx, w, g, req.Players, 0) // a new game session has no player sessions yet
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
