package placement

import (
	"context"
	"fmt"
	"strings"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// Explain says, in a sentence, why a placement has not ended: which of
// its candidate fleet locations lack an idle process and how many older
// placements of its queue wait before it, or that its game session waits
// for its game server to activate it.
func (s *Service) Explain(ctx context.Context, id string) (string, error) {
	return service.Read(ctx, s.cfg.Store, func(r store.Reader) (string, error) {
		p, _, err := s.getPlacement(ctx, r, id)
		if err != nil {
			return "", err
		}
		switch {
		case p.Status != gamelift.PlacementPending:
			return fmt.Sprintf("placement %s is %s", id, p.Status), nil
		case p.GameSessionArn != "":
			return fmt.Sprintf("game session %s is placed in fleet %s at %s and waits for its game server to activate it", p.GameSessionArn, p.FleetID, p.Location), nil
		}
		q, _, err := s.getQueue(ctx, r, p.QueueName)
		if fault.Is(err, fault.NotFound) {
			return fmt.Sprintf("placement %s waits; its queue %s was deleted", id, p.QueueName), nil
		} else if err != nil {
			return "", err
		}
		cands, err := s.candidates(ctx, r, q)
		if err != nil {
			return "", err
		}
		cands, _ = Order(cands, q, p.PlayerLatencies, p.Override, s.now().Sub(p.StartTime))
		ahead, err := placementsAhead(ctx, r, p)
		if err != nil {
			return "", err
		}
		if len(cands) == 0 {
			return fmt.Sprintf("placement waits: queue %s has no ACTIVE fleet location the players' latencies allow now; %d placements ahead", q.Name, ahead), nil
		}
		var none []string
		for _, c := range cands {
			has, err := fleet.HasIdleProcess(ctx, r, c.FleetID, c.Location)
			if err != nil {
				return "", err
			}
			if !has {
				none = append(none, fmt.Sprintf("fleet %s at location %s", c.FleetID, c.Location))
			}
		}
		if len(none) == len(cands) {
			return fmt.Sprintf("placement waits: no idle process in %s; %d placements ahead", strings.Join(none, ", "), ahead), nil
		}
		return fmt.Sprintf("placement is being placed: an idle process is free; %d placements ahead", ahead), nil
	})
}

// placementsAhead counts the PENDING placements of p's queue that started
// before it and still look for a process.
func placementsAhead(ctx context.Context, r store.Reader, p Placement) (int, error) {
	n := 0
	err := store.Walk(ctx, r, store.Query{Kind: KindPlacement, Key: 1, Value: gamelift.PlacementPending}, func(it store.Item) error {
		if it.Keys[1] != p.QueueName || it.ID == p.PlacementID {
			return nil
		}
		o, err := store.Decode[Placement]([]store.Item{it})
		if err != nil {
			return err
		}
		if o[0].GameSessionArn == "" && o[0].StartTime.Before(p.StartTime) {
			n++
		}
		return nil
	})
	return n, err
}
