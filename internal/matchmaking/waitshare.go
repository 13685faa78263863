package matchmaking

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/store"
)

// The replica running a configuration's pool keeps the waits of the
// tickets it matched (waits.go), yet a ticket's EstimatedWaitTime is asked
// of any replica. So the pool's owner writes its mean wait to the store
// every waitShareInterval while it has one (kind mmwait, id the
// configuration's name), and a replica without the pool — or an owner that
// has just taken it and has matched fewer than five tickets — answers with
// that, read at most once per waitShareInterval per configuration. The
// record expires waitWindow after its last write, as the samples behind
// it would.

const (
	kindWait          = "mmwait"
	waitShareInterval = 5 * time.Second
)

// sharedWait is a pool's mean wait as its owner last wrote it.
type sharedWait struct {
	Seconds int32     `json:"seconds"`
	At      time.Time `json:"at"`
}

// waitCache holds the shared waits this replica read, by configuration.
type waitCache struct {
	mu     sync.Mutex
	byName map[string]cachedWait
}

type cachedWait struct {
	seconds *int32
	read    time.Time
}

// eventWait is estimatedWaitMillis for a MatchmakingSearching event of
// configuration name written outside its pool's cycle (a ticket back to
// searching after a failed acceptance): the same value as its tickets'
// EstimatedWaitTime, in seconds (waitStats.eventWait).
func (s *Service) eventWait(ctx context.Context, name string) any {
	if w := s.waitSeconds(ctx, name); w != nil {
		return *w
	}
	return "NOT_AVAILABLE"
}

// waitSeconds is the EstimatedWaitTime of a ticket of configuration name:
// its pool's mean wait when the pool runs here and has one, else the one
// its owner shares.
func (s *Service) waitSeconds(ctx context.Context, name string) *int32 {
	now := s.now()
	if p := s.pool(name); p != nil {
		if w := p.waits.seconds(now); w != nil {
			return w
		}
	}
	if s.cfg.Leases == nil { // one process runs every pool
		return nil
	}
	c := &s.sharedWaits
	c.mu.Lock()
	cached, ok := c.byName[name]
	c.mu.Unlock()
	if ok && now.Sub(cached.read) < waitShareInterval {
		return cached.seconds
	}
	var sw sharedWait
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		var err error
		sw, _, err = store.GetJSON[sharedWait](ctx, r, kindWait, name)
		return err
	})
	switch {
	case err == nil:
		cached = cachedWait{seconds: &sw.Seconds, read: now}
	case errors.Is(err, store.ErrNotFound):
		cached = cachedWait{read: now}
	default:
		s.log.Warn("matchmaking: reading a pool's shared wait failed", "config", name, "err", err)
		return cached.seconds
	}
	c.mu.Lock()
	if c.byName == nil {
		c.byName = map[string]cachedWait{}
	}
	c.byName[name] = cached
	c.mu.Unlock()
	return cached.seconds
}

// shareWaits writes the mean wait of the pool of configuration name, run
// here under its lease, every waitShareInterval until ctx ends: when it
// changed, and at least every half window so that it does not expire.
func (s *Service) shareWaits(ctx context.Context, name string) {
	t := s.cfg.Clock.NewTicker(waitShareInterval)
	defer t.Stop()
	var last sharedWait
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		p := s.pool(name)
		if p == nil {
			continue
		}
		now := s.now()
		w := p.waits.seconds(now)
		if w == nil || (*w == last.Seconds && now.Sub(last.At) < waitWindow/2) {
			continue // too few matches yet: the last shared value stands until it expires
		}
		sw := sharedWait{Seconds: *w, At: now.UTC()}
		err := s.cfg.Store.Update(ctx, func(wr store.Writer) error {
			_, err := wr.Put(ctx, store.Record{Kind: kindWait, ID: name, Doc: store.MustJSON(sw), Upsert: true, ExpiresAt: now.Add(waitWindow)})
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("matchmaking: sharing a pool's wait failed", "config", name, "err", err)
			}
			continue
		}
		last = sw
	}
}
