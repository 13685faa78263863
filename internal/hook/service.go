package hook

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/playerdata"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/webhook/safehttp"
	"github.com/musterhq/muster/internal/webhook/sign"
)

// Records reads players' records (playerdata.Service).
type Records interface {
	Me(ctx context.Context, identityID string) (playerdata.Record, error)
}

// Config configures the service. Zero values take the defaults named.
type Config struct {
	service.Base
	// Box seals signing secrets at rest; without one they are stored in
	// the clear.
	Box *secret.Box
	// Destinations says where hooks may be (checked on the URL when a
	// hook is registered and on every connection), as for webhooks.
	Destinations safehttp.Config
	// Client calls hooks (default: Destinations.Client(), keeping as many
	// idle connections per hook as MaxConcurrent); each call is bounded by
	// its hook's time-out.
	Client *http.Client
	// Registerer receives the metrics (a private registry when nil).
	Registerer prometheus.Registerer
	// Records gives hooks the players' records; nil sends empty ones.
	Records Records
	// MaxConcurrent caps the calls in flight to one hook (64); a call
	// beyond it is not made and counts as a failure of the hook.
	MaxConcurrent int
	// BreakerFailures is how many failures in a row open a hook's breaker
	// (5); BreakerCooldown how long it stays open before one trial call
	// (10 s).
	BreakerFailures int
	BreakerCooldown time.Duration
	// Reload bounds how long registrations changed by another replica take
	// to be seen (1 s); changes made here are seen at once.
	Reload time.Duration
	// SignInDataTTL is how long data a beforeSignIn hook attached is kept
	// after the last sign-in or refresh that set it (30 days).
	SignInDataTTL time.Duration
}

// Service owns hook registrations and calls them.
type Service struct {
	cfg     Config
	metrics *metrics

	// mu guards snap, loadedAt and stale; a reload runs under it.
	mu       sync.Mutex
	snap     *snapshot
	loadedAt time.Time
	stale    bool

	// runners keep each hook's breaker and concurrency across reloads.
	runnersMu sync.Mutex
	runners   map[string]*runner
}

// New returns the service.
func New(cfg Config) *Service {
	cfg.Base = cfg.Base.WithDefaults()
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 64
	}
	if cfg.BreakerFailures <= 0 {
		cfg.BreakerFailures = 5
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = 10 * time.Second
	}
	if cfg.Reload <= 0 {
		cfg.Reload = time.Second
	}
	if cfg.SignInDataTTL <= 0 {
		cfg.SignInDataTTL = 30 * 24 * time.Hour
	}
	if cfg.Client == nil {
		// As many idle connections per hook as calls may be in flight, so
		// a busy hook is not reconnected for every call.
		dest := cfg.Destinations
		dest.IdleConnsPerHost = cfg.MaxConcurrent
		cfg.Client = dest.Client()
	}
	return &Service{cfg: cfg, metrics: newMetrics(cfg.Registerer), stale: true, runners: map[string]*runner{}}
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

// snapshot is the enabled hooks by point, in their order.
type snapshot struct {
	byPoint map[string][]*entry
}

// entry is an enabled hook ready to call.
type entry struct {
	Hook
	signer  *sign.Signer
	configs map[string]bool
	run     *runner
}

// applies says whether the hook runs for a configuration.
func (e *entry) applies(config string) bool { return len(e.configs) == 0 || e.configs[config] }

func (s *Service) invalidate() {
	s.mu.Lock()
	s.stale = true
	s.mu.Unlock()
}

// hooks returns the enabled hooks of a point, reading registrations again
// when they changed here or Reload has passed.
func (s *Service) hooks(ctx context.Context, point string) ([]*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.stale || s.snap == nil || now.Sub(s.loadedAt) >= s.cfg.Reload {
		snap, err := s.load(ctx)
		if err != nil {
			if s.snap == nil {
				return nil, err
			}
			s.cfg.Logger.Warn("hooks: reading registrations failed; the last ones read stay in force", "err", err)
		} else {
			s.snap, s.stale = snap, false
		}
		s.loadedAt = now
	}
	return s.snap.byPoint[point], nil
}

// load reads every enabled hook.
func (s *Service) load(ctx context.Context) (*snapshot, error) {
	var recs []record
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		recs = recs[:0]
		return store.Walk(ctx, r, store.Query{Kind: KindHook, Prefix: true}, func(it store.Item) error {
			rec, err := store.Decode[record]([]store.Item{it})
			recs = append(recs, rec...)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	snap := &snapshot{byPoint: map[string][]*entry{}}
	live := map[string]bool{}
	for _, rec := range recs {
		if !rec.Enabled {
			continue
		}
		plain, err := rec.Reveal(s.cfg.Box, consumer(rec.ID))
		if err != nil {
			s.cfg.Logger.Error("hooks: a hook's secret cannot be opened; the hook is skipped", "hook", rec.ID, "err", err)
			continue
		}
		signer, err := sign.NewSigner(plain)
		if err != nil {
			return nil, err
		}
		e := &entry{Hook: rec.Hook, signer: signer, configs: map[string]bool{}, run: s.runner(rec.ID)}
		for _, c := range rec.Configurations {
			e.configs[c] = true
		}
		live[rec.ID] = true
		snap.byPoint[rec.Point] = append(snap.byPoint[rec.Point], e)
	}
	for _, es := range snap.byPoint {
		slices.SortFunc(es, func(a, b *entry) int {
			return cmp.Or(cmp.Compare(a.Order, b.Order), strings.Compare(a.ID, b.ID))
		})
	}
	s.forgetRunners(live)
	return snap, nil
}

// runner returns the breaker and concurrency of a hook.
func (s *Service) runner(id string) *runner {
	s.runnersMu.Lock()
	defer s.runnersMu.Unlock()
	r, ok := s.runners[id]
	if !ok {
		r = &runner{slots: make(chan struct{}, s.cfg.MaxConcurrent)}
		s.runners[id] = r
	}
	return r
}

func (s *Service) forgetRunners(live map[string]bool) {
	s.runnersMu.Lock()
	defer s.runnersMu.Unlock()
	for id := range s.runners {
		if !live[id] {
			delete(s.runners, id)
		}
	}
}
