package webhook

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/webhook/safehttp"
)

// Config configures the service. Zero durations take the defaults named.
type Config struct {
	service.Base
	// Box seals signing secrets at rest; without one they are stored in
	// the clear.
	Box *secret.Box
	// Destinations says which receivers may be reached (checked on the URL
	// at creation and on every connection).
	Destinations safehttp.Config
	// Client sends deliveries (default Destinations.Client()). Its own
	// time-out should be unset: AttemptTimeout bounds each attempt.
	Client *http.Client
	// Registerer receives the delivery metrics (a private registry when nil).
	Registerer prometheus.Registerer
	// Poll bounds how long a worker takes to notice events committed by
	// another process, or subscriptions changed there (1 s).
	Poll time.Duration
	// Wake, when set, tells the workers another replica committed events.
	Wake func() <-chan struct{}
	// Batch is how many events a worker reads at a time (256).
	Batch int
	// AttemptTimeout bounds one delivery attempt (15 s).
	AttemptTimeout time.Duration
	// RetryFor is how long an event is retried before it becomes a dead
	// letter (24 h).
	RetryFor time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts (5 s, 1 h).
	MinBackoff, MaxBackoff time.Duration
	// RotationOverlap is how long a rotated-out secret keeps signing (24 h).
	RotationOverlap time.Duration
	// KeepAttempts is how many recent attempts a subscription shows (100).
	KeepAttempts int
	// Targets finds a resource's NotificationTarget for an event written
	// without one recorded (default: read from the store, see StoreTargets).
	Targets TargetLookup
	// Leases, when set, gives each subscription's delivery one owner among
	// the replicas sharing the store: Run registers a piece per enabled
	// subscription ("webhook/<id>") and the Manager, run beside it, starts
	// the workers of the leases this replica holds. Without it this process
	// delivers every subscription.
	Leases *lease.Manager
}

// Service owns webhook subscriptions and their delivery.
type Service struct {
	cfg     Config
	reader  *outbox.Reader
	metrics *metrics
	// changed fires when a subscription is created, changed or deleted
	// here; redriven when dead letters are sent back.
	changed, redriven store.Signal

	mu       sync.Mutex
	attempts map[string]*attemptLog
	// onSleep, set by tests before Run, hears each wait between attempts
	// once its timer is armed.
	onSleep func(until time.Time)
}

// New returns the service; Run delivers.
func New(cfg Config) *Service {
	cfg.Base = cfg.Base.WithDefaults()
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Poll, time.Second)
	def(&cfg.AttemptTimeout, 15*time.Second)
	def(&cfg.RetryFor, 24*time.Hour)
	def(&cfg.MinBackoff, 5*time.Second)
	def(&cfg.MaxBackoff, time.Hour)
	def(&cfg.RotationOverlap, 24*time.Hour)
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	if cfg.KeepAttempts <= 0 {
		cfg.KeepAttempts = 100
	}
	if cfg.Client == nil {
		cfg.Client = cfg.Destinations.Client()
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	if cfg.Targets == nil {
		cfg.Targets = StoreTargets(cfg.Store, cfg.ARNs)
	}
	return &Service{
		cfg:      cfg,
		reader:   outbox.New(outbox.Config{Store: cfg.Store, Clock: cfg.Clock, Poll: cfg.Poll, Wake: cfg.Wake, Batch: cfg.Batch}),
		metrics:  newMetrics(cfg.Registerer),
		attempts: map[string]*attemptLog{},
	}
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

// topicARN is the SNS-shaped ARN a NotificationTarget names a
// subscription by.
func (s *Service) topicARN(name string) string {
	return strings.Join([]string{"arn", s.partition(), "sns", s.cfg.ARNs.Region, s.cfg.ARNs.Account, name}, ":")
}

func (s *Service) partition() string {
	if s.cfg.ARNs.Partition != "" {
		return s.cfg.ARNs.Partition
	}
	return gamelift.DefaultPartition
}
