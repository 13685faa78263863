package session

import (
	"context"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// Sweep persists what the clock has decided: game sessions past their
// activation deadline become ERROR (fleet event
// GAME_SESSION_ACTIVATION_TIMEOUT; their process is told to terminate), and
// RESERVED player sessions past the reservation timeout become TIMEDOUT.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now()
	var late []string
	var expired []string
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		gs, err := store.FindAll[GameSession](ctx, r, store.Query{Kind: KindGameSession, Key: 2, Value: gamelift.GameSessionActivating})
		if err != nil {
			return err
		}
		for _, g := range gs {
			if !now.Before(g.ActivateBy) {
				late = append(late, g.ID)
			}
		}
		ps, err := store.FindAll[PlayerSession](ctx, r, store.Query{Kind: KindPlayerSession, Key: 3, Value: gamelift.PlayerSessionReserved})
		if err != nil {
			return err
		}
		for _, p := range ps {
			if s.effectivePlayer(p).Status == gamelift.PlayerSessionTimedOut {
				expired = append(expired, p.ID)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	for _, id := range late {
		if err := s.timeOutActivation(ctx, id); err != nil {
			return err
		}
	}
	if len(expired) == 0 {
		return nil
	}
	return s.cfg.Store.Update(ctx, func(w store.Writer) error {
		for _, id := range expired {
			p, version, err := store.GetJSON[PlayerSession](ctx, w, KindPlayerSession, id)
			if err != nil {
				return err
			}
			if p = s.effectivePlayer(p); p.Status == gamelift.PlayerSessionTimedOut {
				if err := putPlayerSession(ctx, w, p, version); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (s *Service) timeOutActivation(ctx context.Context, id string) error {
	var processID string
	var at time.Time
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		g, version, err := s.getGameSession(ctx, w, id)
		if err != nil || g.Status != gamelift.GameSessionError {
			return err
		}
		stored, _, err := store.GetJSON[GameSession](ctx, w, KindGameSession, id)
		if err != nil || stored.Status != gamelift.GameSessionActivating {
			return err
		}
		if err := s.endGameSession(ctx, w, g, version, gamelift.GameSessionError, ""); err != nil {
			return err
		}
		if err := fleet.SessionEnded(ctx, w, g.ProcessID); err != nil {
			return err
		}
		processID = g.ProcessID
		if at, err = s.cfg.Fleets.TellToEnd(ctx, w, processID); err != nil {
			return err
		}
		return s.cfg.Fleets.AddEvent(ctx, w, g.FleetID, "GAME_SESSION_ACTIVATION_TIMEOUT",
			fmt.Sprintf("Game session %s was not activated by server process %s on compute %s in time", g.ID, g.ProcessID, g.ComputeName))
	})
	if err != nil {
		return fmt.Errorf("activation timeout of %s: %w", id, err)
	}
	if processID != "" && s.cfg.Pusher != nil {
		s.cfg.Pusher.TerminateProcess(processID, at)
	}
	return nil
}

// Run sweeps every second until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	return s.cfg.Every(ctx, time.Second, "session sweep", s.Sweep)
}
