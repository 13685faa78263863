package hook

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/playerdata"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/webhook/safehttp"
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
	// to be seen (1 s); changes made here are seen at once. A read of the
	// registrations that fails is tried again after Reload too.
	Reload time.Duration
	// SignInDataTTL is how long data a beforeSignIn hook attached is kept
	// after the last sign-in or refresh that set it (30 days).
	SignInDataTTL time.Duration
	// RotationOverlap is how long a rotated-out secret keeps signing
	// beside the new one (24 h, as for webhook subscriptions).
	RotationOverlap time.Duration
}

// Service owns hook registrations and calls them.
type Service struct {
	cfg     Config
	metrics *metrics

	// set is the registrations in force, swapped whole after each read of
	// the store (load.go); requests read it without a lock.
	set atomic.Pointer[hookSet]
	// stale is set by a change committed here, which the next request
	// reads at once.
	stale atomic.Bool
	// running is set while Run reads the registrations in the background:
	// the matchmaking cycle then never reads them itself.
	running atomic.Bool
	// loadMu is held by the one goroutine reading the registrations, and
	// guards unusable. The matchmaking cycle only tries it (see
	// VetsMatches), so it never waits for another goroutine's read.
	loadMu   sync.Mutex
	unusable map[string]string // hook id: why it is not called, as last logged

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
	if cfg.RotationOverlap <= 0 {
		cfg.RotationOverlap = 24 * time.Hour
	}
	if cfg.Client == nil {
		// As many idle connections per hook as calls may be in flight, so
		// a busy hook is not reconnected for every call.
		dest := cfg.Destinations
		dest.IdleConnsPerHost = cfg.MaxConcurrent
		cfg.Client = dest.Client()
	}
	return &Service{cfg: cfg, metrics: newMetrics(cfg.Registerer), unusable: map[string]string{}, runners: map[string]*runner{}}
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

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
