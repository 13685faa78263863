package capacity

import (
	"context"
	"errors"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/store"
)

// Backlog is what QueueDepth and WaitTime are read from.
type Backlog interface {
	// Waiting returns, by fleet id, the placements waiting for it.
	Waiting(ctx context.Context, r store.Reader) (map[string]Waiting, error)
}

// Waiting are the PENDING placements, not yet given a game session, of
// queues whose top-priority destination (first, aliases resolved) is a
// fleet: GameLift's QueueDepth, and since when the oldest has waited
// (WaitTime).
type Waiting struct {
	Count  int
	Oldest time.Time
}

// Placements reads the backlog from the placement service's records.
type Placements struct {
	Fleets *fleet.Service
	ARNs   gamelift.ARNBuilder
}

// Waiting implements Backlog.
func (p Placements) Waiting(ctx context.Context, r store.Reader) (map[string]Waiting, error) {
	pending, err := store.FindAll[placement.Placement](ctx, r, store.Query{Kind: placement.KindPlacement, Key: 1, Value: gamelift.PlacementPending})
	if err != nil {
		return nil, err
	}
	out := map[string]Waiting{}
	top := map[string]string{} // queue name → its top fleet id ("" none)
	for _, pl := range pending {
		if pl.GameSessionArn != "" {
			continue
		}
		fleetID, seen := top[pl.QueueName]
		if !seen {
			if fleetID, err = p.topFleet(ctx, r, pl.QueueName); err != nil {
				return nil, err
			}
			top[pl.QueueName] = fleetID
		}
		if fleetID == "" {
			continue
		}
		w := out[fleetID]
		w.Count++
		if w.Oldest.IsZero() || pl.StartTime.Before(w.Oldest) {
			w.Oldest = pl.StartTime
		}
		out[fleetID] = w
	}
	return out, nil
}

func (p Placements) topFleet(ctx context.Context, r store.Reader, queue string) (string, error) {
	q, _, err := store.GetJSON[placement.Queue](ctx, r, placement.KindQueue, queue)
	if err != nil || len(q.Destinations) == 0 {
		return "", ignoreNotFound(err)
	}
	dest := q.Destinations[0]
	typ, id, ok := p.ARNs.Parse(dest)
	if !ok {
		return "", nil
	}
	if typ == gamelift.ResourceAlias {
		fid, err := p.Fleets.Resolve(ctx, r, "", dest)
		if k := fault.KindOf(err); err != nil && (k == fault.NotFound || k == fault.TerminalRoutingStrategy) {
			return "", nil // a deleted or TERMINAL alias routes to no fleet
		}
		return fid, err
	}
	return id, nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
