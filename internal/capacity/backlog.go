package capacity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/store"
)

// Backlog is what QueueDepth and WaitTime are read from.
type Backlog interface {
	// Waiting returns, by fleet location, the placements waiting for it
	// at now.
	Waiting(ctx context.Context, r store.Reader, now time.Time) (map[FleetLocation]Waiting, error)
}

// FleetLocation is one location of one fleet.
type FleetLocation struct{ FleetID, Location string }

// Waiting are the PENDING placements, not yet given a game session, whose
// first choice is a fleet location: GameLift's QueueDepth, and since when
// the oldest has waited (WaitTime).
type Waiting struct {
	Count  int
	Oldest time.Time
}

// Placements reads the backlog from the placement service's records.
type Placements struct {
	Fleets *fleet.Service
	ARNs   gamelift.ARNBuilder
}

// Waiting implements Backlog. Each placement counts once, in its first
// choice (firstChoice). GameLift counts a placement against the fleet that
// is its queue's top-priority destination; Muster scales each location on
// its own, and a placement counted in every location of that fleet made
// each of them scale for it, N locations asking for N times the capacity
// needed and a QueueDepth rule firing in all of them at once.
func (p Placements) Waiting(ctx context.Context, r store.Reader, now time.Time) (map[FleetLocation]Waiting, error) {
	pending, err := store.FindAll[placement.Placement](ctx, r, store.Query{Kind: placement.KindPlacement, Key: 1, Value: gamelift.PlacementPending})
	if err != nil {
		return nil, fmt.Errorf("read pending placements: %w", err)
	}
	out := map[FleetLocation]Waiting{}
	queues := map[string]*queueCandidates{} // nil: the queue is gone
	for _, pl := range pending {
		if pl.GameSessionArn != "" {
			continue
		}
		qc, seen := queues[pl.QueueName]
		if !seen {
			if qc, err = p.candidates(ctx, r, pl.QueueName); err != nil {
				return nil, err
			}
			queues[pl.QueueName] = qc
		}
		at, ok := qc.firstChoice(pl, now)
		if !ok {
			continue
		}
		w := out[at]
		w.Count++
		if w.Oldest.IsZero() || pl.StartTime.Before(w.Oldest) {
			w.Oldest = pl.StartTime
		}
		out[at] = w
	}
	return out, nil
}

// queueCandidates is a queue and its candidates, as the placer lists them.
// plain is the first choice of its placements without latencies or
// override, which is the same for all of them: most of a backlog, ordered
// once rather than once each.
type queueCandidates struct {
	q     placement.Queue
	cands []placement.Candidate
	plain *FleetLocation
}

// candidates reads the named queue's candidates (nil when the queue is
// gone). The placer skips a destination it cannot read and tries the next;
// here a failed read fails the evaluation instead, because counting that
// destination's placements elsewhere, or nowhere, would scale the wrong
// locations, or scale them in.
func (p Placements) candidates(ctx context.Context, r store.Reader, name string) (*queueCandidates, error) {
	q, _, err := store.GetJSON[placement.Queue](ctx, r, placement.KindQueue, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read queue %s: %w", name, err)
	}
	fr := &failedRead{Reader: r}
	cands, err := placement.Candidates(ctx, fr, p.Fleets, p.ARNs, q)
	if err == nil {
		err = fr.err
	}
	if err != nil {
		return nil, fmt.Errorf("read the destinations of queue %s: %w", name, err)
	}
	return &queueCandidates{q: q, cands: cands}, nil
}

// firstChoice is the fleet location the placer tries first for pl: the
// first of its candidates in the placer's own order (placement.Order),
// under the latency policy in force now. A placement waits because that
// location has no idle process, and capacity added there is capacity it
// takes; counting it there alone, rather than a share of it in each
// candidate, scales out where its players are best served, and keeps the
// count whole: shares, each rounded up to a compute, would add capacity in
// locations it goes to only if the first is full. One that no candidate's
// latency allows now counts where it will go once a looser latency policy
// applies, where it will then take capacity; one that can go nowhere ever,
// nowhere.
func (qc *queueCandidates) firstChoice(pl placement.Placement, now time.Time) (FleetLocation, bool) {
	if qc == nil {
		return FleetLocation{}, false
	}
	if len(pl.PlayerLatencies) == 0 && pl.Override == nil {
		if qc.plain == nil {
			at, ok := qc.order(pl, 0)
			if !ok {
				return at, false
			}
			qc.plain = &at
		}
		return *qc.plain, true
	}
	return qc.order(pl, now.Sub(pl.StartTime))
}

// order is pl's first choice at age, or once a looser latency policy lets
// it go somewhere.
func (qc *queueCandidates) order(pl placement.Placement, age time.Duration) (FleetLocation, bool) {
	for {
		ordered, next := placement.Order(qc.cands, qc.q, pl.PlayerLatencies, pl.Override, age)
		if len(ordered) > 0 {
			return FleetLocation{FleetID: ordered[0].FleetID, Location: ordered[0].Location}, true
		}
		if next <= 0 {
			return FleetLocation{}, false
		}
		age += next
	}
}

// failedRead is a reader that keeps the first read that failed for a
// reason other than the record's absence.
type failedRead struct {
	store.Reader
	err error
}

func (r *failedRead) Get(ctx context.Context, kind, id string) (store.Item, error) {
	it, err := r.Reader.Get(ctx, kind, id)
	r.keep(err)
	return it, err
}

func (r *failedRead) Find(ctx context.Context, q store.Query) ([]store.Item, error) {
	items, err := r.Reader.Find(ctx, q)
	r.keep(err)
	return items, err
}

func (r *failedRead) keep(err error) {
	if err != nil && r.err == nil && !errors.Is(err, store.ErrNotFound) {
		r.err = err
	}
}
