package placement

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

// placer attempts PENDING placements with a pool of workers. Each pending
// placement it knows has an entry; a placement is queued at most once and
// attempted by one worker at a time.
type placer struct {
	s      *Service
	signal chan struct{}

	// mu guards the fields below.
	mu      sync.Mutex
	entries map[string]*entry
	ready   []string
	running bool // Run has started: wakes are queued for workers
}

type entry struct {
	queued, busy, again bool
	timer               clock.Timer
}

func newPlacer(s *Service) *placer {
	return &placer{s: s, signal: make(chan struct{}, s.cfg.Workers), entries: map[string]*entry{}}
}

// wake queues a placement for an attempt now.
func (pl *placer) wake(id string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	e := pl.entries[id]
	if e == nil {
		e = &entry{}
		pl.entries[id] = e
	}
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	switch {
	case e.busy:
		e.again = true
	case !e.queued:
		e.queued = true
		pl.ready = append(pl.ready, id)
		select {
		case pl.signal <- struct{}{}:
		default:
		}
	}
}

func (pl *placer) pop() (string, bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if !pl.running || len(pl.ready) == 0 {
		return "", false
	}
	id := pl.ready[0]
	pl.ready = pl.ready[1:]
	e := pl.entries[id]
	e.queued, e.busy = false, true
	return id, true
}

// finish records the outcome of an attempt: done forgets the placement,
// otherwise it is attempted again after wait (or at once if woken meanwhile).
func (pl *placer) finish(id string, done bool, wait time.Duration) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	e := pl.entries[id]
	e.busy = false
	if done {
		delete(pl.entries, id)
		return
	}
	if e.again {
		e.again, e.queued = false, true
		pl.ready = append(pl.ready, id)
		select {
		case pl.signal <- struct{}{}:
		default:
		}
		return
	}
	e.timer = pl.s.cfg.Clock.AfterFunc(wait, func() { pl.wake(id) })
}

// Run resumes every PENDING placement from the store and attempts
// placements until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	pl := s.placer
	after := ""
	for {
		var items []store.Item
		err := s.cfg.Store.View(ctx, func(r store.Reader) error {
			var err error
			items, err = r.Find(ctx, store.Query{Kind: KindPlacement, Key: 1, Value: gamelift.PlacementPending, After: after, Limit: 1000})
			return err
		})
		if err != nil {
			return fmt.Errorf("placement: resume pending placements: %w", err)
		}
		for _, it := range items {
			pl.wake(it.ID)
		}
		if len(items) < 1000 {
			break
		}
		after = store.Query{Key: 1}.Cursor(items[len(items)-1])
	}
	pl.mu.Lock()
	pl.running = true
	pl.mu.Unlock()
	for range s.cfg.Workers {
		select {
		case pl.signal <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Go(func() {
			for {
				if id, ok := pl.pop(); ok {
					done, wait := s.attempt(ctx, id)
					pl.finish(id, done, wait)
					continue
				}
				select {
				case <-pl.signal:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.running = false
	for _, e := range pl.entries {
		if e.timer != nil {
			e.timer.Stop()
		}
	}
	return ctx.Err()
}

// Attempt tries to place one placement now (tests call it to run a pass
// directly). It reports whether the placement has ended.
func (s *Service) Attempt(ctx context.Context, id string) (bool, error) {
	done, _, err := s.try(ctx, id)
	return done, err
}

// attempt is one try by a worker; errors are logged and retried later.
func (s *Service) attempt(ctx context.Context, id string) (bool, time.Duration) {
	done, wait, err := s.try(ctx, id)
	if err != nil {
		if ctx.Err() != nil {
			return true, 0
		}
		s.cfg.Logger.Error("placement attempt failed; retrying", "placement_id", id, "err", err)
		return false, s.cfg.RetryInterval
	}
	return done, wait
}

// errNoCapacity rolls back an attempt that found no process.
var errNoCapacity = errors.New("no capacity")

// try makes one attempt: it ends a placement past its deadline or whose
// queue is gone, or places it on the first candidate with an idle process.
func (s *Service) try(ctx context.Context, id string) (done bool, wait time.Duration, err error) {
	var p Placement
	var version int64
	var q *Queue
	var cands []Candidate
	var next time.Duration
	var queueGone bool
	now := s.now()
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		var err error
		if p, version, err = s.getPlacement(ctx, r, id); err != nil {
			return err
		}
		if p.Status != gamelift.PlacementPending || !now.Before(p.Deadline) {
			return nil
		}
		qq, _, err := s.getQueue(ctx, r, p.QueueName)
		if fault.Is(err, fault.NotFound) {
			queueGone = true
			return nil
		} else if err != nil {
			return err
		}
		q = &qq
		all, err := s.candidates(ctx, r, qq)
		if err != nil {
			return err
		}
		cands, next = Order(all, qq, p.PlayerLatencies, p.Override, now.Sub(p.StartTime))
		return nil
	})
	if fault.Is(err, fault.NotFound) {
		return true, 0, nil
	}
	if err != nil {
		return false, 0, err
	}
	if p.Status != gamelift.PlacementPending {
		return true, 0, nil
	}
	players := make([]session.DesiredPlayer, len(p.DesiredPlayerSessions))
	for i, d := range p.DesiredPlayerSessions {
		players[i] = session.DesiredPlayer{PlayerID: d.PlayerId, PlayerData: d.PlayerData}
	}
	// The attempt writes the placement with the version read above: if it
	// changed meanwhile (stopped), the Update fails with ErrConflict and
	// the next attempt sees why.
	err = s.cfg.Store.Update(ctx, func(w store.Writer) error {
		cur := p
		switch {
		case !now.Before(cur.Deadline):
			_, err := s.endIn(ctx, w, cur, version, gamelift.PlacementTimedOut, "", nil)
			return err
		case queueGone:
			_, err := s.endIn(ctx, w, cur, version, gamelift.PlacementFailed, "the game session queue was deleted", nil)
			return err
		}
		for _, c := range cands {
			g, ps, err := s.cfg.Sessions.CreateGameSessionIn(ctx, w, session.PlaceRequest{FleetID: c.FleetID, Location: c.Location,
				MaxPlayers: cur.MaximumPlayerSessionCount, Name: cur.GameSessionName, Properties: cur.GameProperties, Data: cur.GameSessionData,
				MatchmakerData: cur.MatchmakerData, IdempotencyToken: cur.PlacementID, Players: players})
			if err != nil {
				var fe *fault.Error
				if errors.As(err, &fe) && fe.Kind != fault.Internal {
					continue // no idle process, fleet not active, location gone…: try the next one
				}
				return err
			}
			cur.GameSessionArn, cur.FleetID, cur.Location = g.ID, g.FleetID, g.Location
			cur.IpAddress, cur.DnsName, cur.Port = g.IPAddress, g.DNSName, g.Port
			cur.PlacedPlayerSessions = make([]gamelift.PlacedPlayerSession, len(ps))
			for i, x := range ps {
				cur.PlacedPlayerSessions[i] = gamelift.PlacedPlayerSession{PlayerId: x.PlayerID, PlayerSessionId: x.ID}
			}
			_, err = s.endIn(ctx, w, cur, version, gamelift.PlacementFulfilled, "", q)
			return err
		}
		return errNoCapacity
	})
	switch {
	case errors.Is(err, errNoCapacity):
	case errors.Is(err, store.ErrConflict):
		return false, 0, nil // changed under us (stopped?): look again at once
	case err != nil:
		return false, 0, err
	default:
		return true, 0, nil
	}
	wait = s.cfg.RetryInterval
	if next > 0 && next < wait {
		wait = next
	}
	if left := p.Deadline.Sub(now); left < wait {
		wait = left
	}
	return false, wait, nil
}
