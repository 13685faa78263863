package matchmaking

import (
	"context"
	"strings"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// Leases gives each configuration's pool one owner among the replicas
// that share the store (lease.Manager).
type Leases interface {
	Register(name string, work lease.Work)
	Unregister(ctx context.Context, name string)
	// Replica is this replica's id.
	Replica() string
}

// LeaseName is the lease of a configuration's pool and loop.
func LeaseName(config string) string { return "matchmaking/" + config }

// Messages between replicas (relay keys, each followed by the
// configuration's name).
const (
	relayTopic = "matchmaking"
	// keyTickets: ids of tickets written for the pool (new, or back to
	// SEARCHING); its owner reads them from the store.
	keyTickets = "t/"
	// keyRemove: ids of tickets that left matchmaking (cancelled).
	keyRemove = "r/"
	// keyConfig: the configuration was created, updated or deleted (id:
	// the sender's replica); keyAccess: only its player access changed.
	keyConfig = "c/"
	keyAccess = "a/"
)

// syncInterval is how often a replica matches its leases to the
// configurations in the store and each pool it runs catches up with the
// tickets written for it, in case a message between replicas was lost.
const syncInterval = 2 * time.Second

// startLeased is Start with Config.Leases: every configuration is a piece
// of work whose lease holder runs its pool, rebuilt from the store.
func (s *Service) startLeased(ctx context.Context) error {
	s.mu.Lock()
	s.running = ctx
	s.mu.Unlock()
	if s.relay != nil {
		stop := s.relay.Listen(s.received)
		s.wg.Go(func() {
			defer stop()
			s.relay.Run(ctx)
		})
	}
	s.wg.Go(func() {
		t := s.cfg.Clock.NewTicker(syncInterval)
		defer t.Stop()
		for {
			s.syncLeases(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C():
			}
		}
	})
	return nil
}

// syncLeases registers a piece for every configuration in the store,
// unregisters those gone, and lets each local pool catch up.
func (s *Service) syncLeases(ctx context.Context) {
	names, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (map[string]bool, error) {
		out := map[string]bool{}
		err := store.Walk(ctx, r, store.Query{Kind: KindConfig, Prefix: true, NoDocs: true}, func(it store.Item) error {
			out[it.ID] = true
			return nil
		})
		return out, err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("matchmaking: listing configurations for their leases failed", "err", err)
		}
		return
	}
	s.mu.Lock()
	var gone []string
	for n := range s.registered {
		if !names[n] {
			gone = append(gone, n)
		}
	}
	s.mu.Unlock()
	for n := range names {
		s.register(n)
	}
	for _, n := range gone {
		s.unregister(ctx, n)
	}
	for _, p := range s.localPools() {
		s.catchUp(ctx, p)
	}
}

func (s *Service) register(name string) {
	s.mu.Lock()
	done := s.registered[name]
	s.registered[name] = true
	s.mu.Unlock()
	if !done {
		s.cfg.Leases.Register(LeaseName(name), s.ownPool(name))
	}
}

func (s *Service) unregister(ctx context.Context, name string) {
	s.mu.Lock()
	delete(s.registered, name)
	s.mu.Unlock()
	s.cfg.Leases.Unregister(ctx, LeaseName(name))
}

func (s *Service) localPools() []*pool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*pool, 0, len(s.pools))
	for _, p := range s.pools {
		out = append(out, p)
	}
	return out
}

// ownPool is the work of a configuration's lease: build the pool from the
// store, resume its pending matches, and run it until the lease ends.
func (s *Service) ownPool(name string) lease.Work {
	return func(ctx context.Context, l lease.Lease) {
		for {
			c, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (configRec, error) {
				c, _, err := s.config(ctx, r, name, "ConfigurationName")
				return c, err
			})
			if err == nil {
				err = s.runPool(ctx, ctx, c, &l)
			}
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("matchmaking: starting an owned pool failed; trying again", "config", name, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-s.clockAfter(time.Second):
			}
		}
		s.log.Info("matchmaking: running the pool of a configuration", "config", name, "epoch", l.Epoch)
		if err := s.resumeMatches(ctx, name); err != nil && ctx.Err() == nil {
			s.log.Warn("matchmaking: resuming pending matches failed", "config", name, "err", err)
		}
		s.shareWaits(ctx, name) // until the lease ends
		s.mu.Lock()
		p := s.pools[name]
		if p != nil && p.lease != nil && p.lease.Epoch == l.Epoch {
			delete(s.pools, name)
		} else {
			p = nil
		}
		s.mu.Unlock()
		if p != nil {
			p.stop()
			<-p.done
		}
	}
}

// handOff gives a ticket written for a pool (new, or back to SEARCHING)
// to the pool after commit: directly when it runs here, through the relay
// to its owner otherwise.
func (s *Service) handOff(rec ticketRec, version int64, fresh bool) {
	if p := s.pool(rec.ConfigName); p != nil {
		p.addVersion(rec, version, fresh)
	} else if s.relay != nil {
		s.relay.Send(keyTickets+rec.ConfigName, rec.ID)
	}
}

// takeOut takes a ticket that left matchmaking out of its pool, after
// commit.
func (s *Service) takeOut(config, id string) {
	if p := s.pool(config); p != nil {
		p.remove(id)
	} else if s.relay != nil {
		s.relay.Send(keyRemove+config, id)
	}
}

// configChanged tells every replica that a configuration was created,
// updated or deleted.
func (s *Service) configChanged(name string) {
	if s.relay != nil && s.cfg.Leases != nil {
		s.relay.Send(keyConfig+name, s.cfg.Leases.Replica())
	}
}

// received handles a message from the relay (on the relay's goroutine).
func (s *Service) received(key string, ids []string) {
	s.mu.Lock()
	ctx := s.running
	s.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	switch {
	case strings.HasPrefix(key, keyTickets):
		if p := s.pool(key[len(keyTickets):]); p != nil {
			s.addFromStore(ctx, p, ids)
		}
	case strings.HasPrefix(key, keyRemove):
		if p := s.pool(key[len(keyRemove):]); p != nil {
			for _, id := range ids {
				p.remove(id)
			}
		}
	case strings.HasPrefix(key, keyAccess), strings.HasPrefix(key, keyConfig):
		name := key[2:]
		mine := s.cfg.Leases != nil && len(ids) > 0 && ids[0] == s.cfg.Leases.Replica()
		if !mine {
			s.wg.Go(func() { s.reloadConfig(ctx, name, strings.HasPrefix(key, keyAccess)) })
		}
	}
}

// reloadConfig applies a configuration changed on another replica: its
// lease is registered or dropped, and the pool, when it runs here, takes
// the new settings.
func (s *Service) reloadConfig(ctx context.Context, name string, accessOnly bool) {
	c, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (configRec, error) {
		c, _, err := s.config(ctx, r, name, "ConfigurationName")
		return c, err
	})
	switch {
	case fault.Is(err, fault.NotFound):
		if s.cfg.Leases != nil {
			s.unregister(ctx, name)
		}
		return
	case err != nil:
		s.log.Warn("matchmaking: reading a changed configuration failed; the next sync retries", "config", name, "err", err)
		return
	}
	if s.cfg.Leases != nil {
		s.register(name)
	}
	p := s.pool(name)
	switch {
	case p == nil:
	case accessOnly:
		p.setConfig(c)
	default:
		if err := s.startPool(ctx, c); err != nil {
			s.log.Warn("matchmaking: restarting a pool with its new settings failed", "config", name, "err", err)
		}
	}
}

// addFromStore reads tickets and hands those still waiting to p.
func (s *Service) addFromStore(ctx context.Context, p *pool, ids []string) {
	type found struct {
		rec     ticketRec
		version int64
	}
	var back []found
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		back = back[:0]
		for _, id := range ids {
			rec, version, err := store.GetJSON[ticketRec](ctx, r, KindTicket, id)
			if isNotFound(err) {
				continue
			} else if err != nil {
				return err
			}
			if rec.ConfigName == p.name && (rec.Status == gamelift.TicketQueued || rec.Status == gamelift.TicketSearching) {
				back = append(back, found{rec, version})
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("matchmaking: reading tickets handed to a pool failed; the next sync retries", "config", p.name, "err", err)
		}
		return
	}
	for _, f := range back {
		p.addVersion(f.rec, f.version, f.rec.Status == gamelift.TicketQueued)
	}
}

// catchUp hands p the waiting tickets of its configuration it does not
// know: written on another replica whose message was lost.
func (s *Service) catchUp(ctx context.Context, p *pool) {
	var ids []string
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		ids = ids[:0]
		return store.Walk(ctx, r, store.Query{Kind: KindTicket, Key: 1, Value: p.name, NoDocs: true}, func(it store.Item) error {
			ids = append(ids, it.ID)
			return nil
		})
	})
	if err != nil {
		return
	}
	p.engMu.Lock()
	missing := ids[:0]
	for _, id := range ids {
		if p.waiter(id) == nil {
			missing = append(missing, id)
		}
	}
	p.engMu.Unlock()
	p.mu.Lock()
	queued := make(map[string]bool, len(p.incoming))
	for _, a := range p.incoming {
		queued[a.rec.ID] = true
	}
	p.mu.Unlock()
	unknown := missing[:0]
	for _, id := range missing {
		if !queued[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		s.addFromStore(ctx, p, unknown)
	}
}

// explainElsewhere says which replica runs the pool of a ticket's
// configuration, when it is not this one.
func (s *Service) explainElsewhere(ctx context.Context, config string) string {
	l, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (lease.Lease, error) {
		l, _, err := store.GetJSON[lease.Lease](ctx, r, lease.KindLease, LeaseName(config))
		return l, err
	})
	if err != nil || !s.now().Before(l.ExpiresAt) {
		return "waiting for a replica to take the pool of configuration " + config
	}
	where := "replica " + l.Holder
	if l.Address != "" {
		where += " at " + l.Address
	}
	return "waiting in the pool of configuration " + config + ", run by " + where + ", which explains it in detail"
}

// cachedRuleSet is a parsed rule set and the stored version it came from.
type cachedRuleSet struct {
	version int64
	rs      *flexmatch.RuleSet
}

// parsedRuleSet returns configuration c's rule set, parsed: the running
// pool's when c's pool runs here, otherwise read with r and parsed once
// per stored version.
func (s *Service) parsedRuleSet(ctx context.Context, r store.Reader, c configRec) (*flexmatch.RuleSet, error) {
	if p := s.pool(c.Name); p != nil && p.ruleSetName == c.RuleSetName {
		return p.rs, nil
	}
	rec, version, err := store.GetJSON[ruleSetRec](ctx, r, KindRuleSet, c.RuleSetName)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	cached, ok := s.ruleSets[c.RuleSetName]
	s.mu.Unlock()
	if ok && cached.version == version {
		return cached.rs, nil
	}
	rs, err := flexmatch.Parse([]byte(rec.Body))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.ruleSets[c.RuleSetName] = cachedRuleSet{version, rs}
	s.mu.Unlock()
	return rs, nil
}

var _ Leases = (*lease.Manager)(nil)

// clockAfter returns a channel closed after d on the service's clock.
func (s *Service) clockAfter(d time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	clock.AfterFuncAt(s.cfg.Clock, s.now().Add(d), func() { close(ch) })
	return ch
}
