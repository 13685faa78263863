package placement

import (
	"context"
	"time"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/store"
)

// LeaseName is the placer's lease among replicas sharing a store.
const LeaseName = "placer"

// Messages to the replica running the placer (relay keys).
const (
	relayTopic = "placement"
	// keyWake: ids of placements to attempt now (started, or settled).
	keyWake = "wake"
	// keyCapacity: a server process became free somewhere.
	keyCapacity = "capacity"
)

// catchUpInterval is how often the placer looks in the store for PENDING
// placements it has not heard of (a message between replicas was lost).
const catchUpInterval = 2 * time.Second

// RunLeased is the placer's work under a lease (lease.Work), with
// Config.Bus: it runs the placer as Run does, each write transaction
// checking the lease, until ctx ends; wakes heard from other replicas
// reach it through the relay, and it catches up from the store every few
// seconds.
func (s *Service) RunLeased(ctx context.Context, l lease.Lease) {
	pl := s.placer
	pl.mu.Lock()
	pl.lease = &l
	pl.mu.Unlock()
	defer func() {
		pl.mu.Lock()
		pl.lease = nil
		pl.mu.Unlock()
	}()
	go s.cfg.Every(ctx, catchUpInterval, "placement catch-up", s.catchUp)
	if err := s.Run(ctx); err != nil && ctx.Err() == nil {
		s.cfg.Logger.Error("placement: the placer stopped", "err", err)
	}
}

// RunRelay carries wakes between replicas until ctx ends (a background
// part of every replica, with Config.Bus).
func (s *Service) RunRelay(ctx context.Context) error {
	if s.relay == nil {
		<-ctx.Done()
		return nil
	}
	stop := s.relay.Listen(s.received)
	defer stop()
	return s.relay.Run(ctx)
}

// received handles a message from another replica (or this one): only
// the replica running the placer acts on it.
func (s *Service) received(key string, ids []string) {
	pl := s.placer
	pl.mu.Lock()
	running := pl.running
	pl.mu.Unlock()
	if !running {
		return
	}
	switch key {
	case keyWake:
		for _, id := range ids {
			pl.wake(id)
		}
	case keyCapacity:
		pl.wakeOldestWaiting(capacityWakes)
	}
}

// catchUp wakes the PENDING placements the placer has no entry for.
func (s *Service) catchUp(ctx context.Context) error {
	var ids []string
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		ids = ids[:0]
		return store.Walk(ctx, r, store.Query{Kind: KindPlacement, Key: 1, Value: gamelift.PlacementPending, NoDocs: true}, func(it store.Item) error {
			ids = append(ids, it.ID)
			return nil
		})
	})
	if err != nil {
		return err
	}
	pl := s.placer
	pl.mu.Lock()
	unknown := ids[:0]
	for _, id := range ids {
		if pl.entries[id] == nil {
			unknown = append(unknown, id)
		}
	}
	pl.mu.Unlock()
	for _, id := range unknown {
		pl.wake(id)
	}
	return nil
}

// checkLease fails a write transaction of a placer whose lease moved on.
func (s *Service) checkLease(ctx context.Context, w store.Writer) error {
	s.placer.mu.Lock()
	l := s.placer.lease
	s.placer.mu.Unlock()
	if l == nil {
		return nil
	}
	return lease.Check(ctx, w, *l, s.now())
}
