package matchmaking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/relay"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

// Store kinds (see doc.go).
const (
	KindRuleSet = "mmruleset"
	KindConfig  = "mmconfig"
	KindTicket  = "mmticket"
	KindActive  = "mmactive"
	KindMatch   = "mmmatch"
	KindParty   = "mmparty"
	KindMember  = "mmmember"
)

// Placer starts a WITH_QUEUE match's placement inside the caller's
// transaction (placement.Service; docs/matchmaking-placement.md).
type Placer interface {
	StartIn(ctx context.Context, w store.Writer, req placement.Request) error
	// AdmitTicket refuses (store.ErrOverloaded) a new ticket while one of
	// the queues its matches would be placed through is past its capacity.
	AdmitTicket(ctx context.Context, queueArns []string) error
	// StopIn cancels a placement whose players all gave up, unless its
	// game session exists (it reports whether it stopped it).
	StopIn(ctx context.Context, w store.Writer, placementID, reason string) (bool, error)
	// Locations returns where the queues can place a game session.
	Locations(ctx context.Context, r store.Reader, queueArns []string) (map[string]bool, error)
	// Explain says why a placement has not ended.
	Explain(ctx context.Context, placementID string) (string, error)
}

// Sessions is what backfill needs of the session service.
type Sessions interface {
	DescribePlayerSessions(ctx context.Context, q session.PlayerQuery) ([]session.PlayerSession, string, error)
	SeatIn(ctx context.Context, w store.Writer, gameSessionID string, players []session.DesiredPlayer) ([]session.PlayerSession, error)
	UpdateMatchmakerData(ctx context.Context, gameSessionID, matchmakerData, reason, ticketID string) error
	UpdateMatchmakerDataIn(ctx context.Context, w store.Writer, gameSessionID, matchmakerData, reason, ticketID string) error
}

// Attributes reads a player's matchmaking attributes from the player data
// table (playerdata.Service).
type Attributes interface {
	Attributes(ctx context.Context, identityID string) (map[string]gamelift.AttributeValue, error)
}

// Config configures the Service.
type Config struct {
	service.Base
	// Placer places WITH_QUEUE matches (placement.Service); nil fails them
	// with a clear reason.
	Placer Placer
	// Sessions serves backfill of game sessions; nil refuses it.
	Sessions Sessions
	// Attributes fills player tickets' attributes; nil gives every player
	// the rule set's defaults.
	Attributes Attributes
	// CycleInterval is the longest time between two passes of a pool
	// (zero: 250 ms); a pass also runs as soon as tickets arrive.
	CycleInterval time.Duration
	// TicketRetention is how long finished tickets stay readable (zero:
	// 1 h).
	TicketRetention time.Duration
	// Engine tunes every pool's engine.
	Engine flexmatch.Options
	// Gate, when set, decides on players' tickets before they are written
	// (the studio's hooks, package hook).
	Gate Gate
	// Leases, when set, runs each configuration's pool on one replica of
	// those sharing the store (replicas.go); nil runs every pool here.
	Leases Leases
	// Bus, with Leases, carries tickets written here to the replica that
	// runs their pool (bus.Bus); without it the owner finds them by
	// catching up from the store every few seconds.
	Bus relay.Bus
}

// Validate reports settings no service can run with, naming each field.
func (c Config) Validate() error {
	var v fault.Validator
	v.Check(c.Store != nil, "Store", "is required")
	v.Check(c.CycleInterval >= 0, "CycleInterval", "must be a positive duration (zero means 250 ms), not %s", c.CycleInterval)
	v.Check(c.TicketRetention >= 0, "TicketRetention", "must be a positive duration (zero means 1 h), not %s", c.TicketRetention)
	return v.Err()
}

// Service is the matchmaking service. It is safe for concurrent use.
type Service struct {
	cfg Config
	log *slog.Logger

	// mu guards pools and running.
	mu      sync.Mutex
	pools   map[string]*pool
	running context.Context // nil until Run
	wg      sync.WaitGroup

	timersMu sync.Mutex
	timers   map[string]clock.Timer // acceptance deadlines by match id

	// relay carries tickets and configuration changes between replicas
	// (nil without Config.Bus); registered are the configurations whose
	// lease is registered, ruleSets the parsed rule sets (both under mu).
	relay      *relay.Relay
	registered map[string]bool
	ruleSets   map[string]cachedRuleSet
	// sharedWaits are the pools' waits their owners share (waitshare.go).
	sharedWaits waitCache
	// knownLocations are the locations tickets' latencies were last
	// checked against (knownlocations.go).
	knownLocations knownLocations
}

// New returns the service, or the Validate error of cfg. Run starts its
// pools.
func New(cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("matchmaking: %w", err)
	}
	cfg.Base = cfg.Base.WithDefaults()
	if cfg.CycleInterval == 0 {
		cfg.CycleInterval = 250 * time.Millisecond
	}
	if cfg.TicketRetention == 0 {
		cfg.TicketRetention = time.Hour
	}
	s := &Service{cfg: cfg, log: cfg.Logger, pools: map[string]*pool{}, timers: map[string]clock.Timer{},
		registered: map[string]bool{}, ruleSets: map[string]cachedRuleSet{}}
	if cfg.Bus != nil && cfg.Leases != nil {
		s.relay = relay.New(cfg.Bus, relayTopic, cfg.Logger)
	}
	return s, nil
}

// Run loads every configuration's waiting tickets, starts the pools and the
// acceptance timers of pending matches, and runs until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	s.Stop()
	return ctx.Err()
}

// Start is Run without waiting: it starts the pools under ctx. Stop ends
// them.
func (s *Service) Start(ctx context.Context) error {
	if s.cfg.Leases != nil {
		return s.startLeased(ctx)
	}
	cfgs, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) ([]configRec, error) {
		return findAll[configRec](ctx, r, store.Query{Kind: KindConfig, Prefix: true})
	})
	if err != nil {
		return fmt.Errorf("matchmaking: load configurations: %w", err)
	}
	s.mu.Lock()
	s.running = ctx
	s.mu.Unlock()
	for _, c := range cfgs {
		if err := s.startPool(ctx, c); err != nil {
			return err
		}
	}
	return s.resumeMatches(ctx, "")
}

// Stop ends the pools and waits for them.
func (s *Service) Stop() {
	s.mu.Lock()
	for _, p := range s.pools {
		p.stop()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.timersMu.Lock()
	for id, t := range s.timers {
		t.Stop()
		delete(s.timers, id)
	}
	s.timersMu.Unlock()
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

// pool returns the running pool of a configuration, or nil.
func (s *Service) pool(name string) *pool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pools[name]
}

// startPool (re)starts the pool of configuration c, loading its waiting
// tickets from the store. With Config.Leases only a pool that runs here
// restarts: the lease's work (ownPool) starts the others where they are
// owned.
func (s *Service) startPool(ctx context.Context, c configRec) error {
	s.mu.Lock()
	run := s.running
	old := s.pools[c.Name]
	s.mu.Unlock()
	var l *lease.Lease
	switch {
	case old != nil:
		run, l = old.runCtx, old.lease
	case run == nil, s.cfg.Leases != nil:
		return nil // not started yet (Start loads it), or owned elsewhere
	}
	return s.runPool(ctx, run, c, l)
}

// runPool starts c's pool under run (and lease l, when set), replacing
// the one running: the new pool takes arrivals at once, and loads the
// waiting tickets once the old one has stopped.
func (s *Service) runPool(ctx, run context.Context, c configRec, l *lease.Lease) error {
	rsRec, err := s.ruleSet(ctx, c.RuleSetName)
	if err != nil {
		return err
	}
	rs, err := flexmatch.Parse([]byte(rsRec.Body))
	if err != nil {
		return fmt.Errorf("matchmaking: rule set %s: %w", c.RuleSetName, err)
	}
	p := newPool(s, c, rs)
	p.lease, p.runCtx = l, run
	s.mu.Lock()
	old := s.pools[c.Name]
	s.pools[c.Name] = p
	s.mu.Unlock()
	if old != nil {
		old.stop()
		<-old.done
	}
	tickets, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) ([]ticketRec, error) {
		return findAll[ticketRec](ctx, r, store.Query{Kind: KindTicket, Key: 1, Value: c.Name})
	})
	if err != nil {
		s.mu.Lock()
		if s.pools[c.Name] == p {
			delete(s.pools, c.Name)
		}
		s.mu.Unlock()
		return fmt.Errorf("matchmaking: load tickets of %s: %w", c.Name, err)
	}
	for _, t := range tickets {
		switch t.Status {
		case gamelift.TicketQueued:
			p.add(t, true)
		case gamelift.TicketSearching:
			p.add(t, false)
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		p.run(run)
	}()
	return nil
}

func (s *Service) stopPool(name string) {
	s.mu.Lock()
	p := s.pools[name]
	delete(s.pools, name)
	s.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// findAll reads every record a query selects.
func findAll[T any](ctx context.Context, r store.Reader, q store.Query) ([]T, error) {
	var out []T
	err := store.Walk(ctx, r, q, func(it store.Item) error {
		v, err := store.Decode[T]([]store.Item{it})
		out = append(out, v...)
		return err
	})
	return out, err
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
