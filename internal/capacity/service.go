package capacity

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/service"
)

// Defaults of Config.
const (
	DefaultReconcileInterval  = 10 * time.Second
	DefaultRegisterDeadline   = 5 * time.Minute
	DefaultReleaseDeadline    = 10 * time.Minute
	DefaultBaseBackoff        = 10 * time.Second
	DefaultMaxBackoff         = 5 * time.Minute
	DefaultEvaluationInterval = time.Minute
	DefaultScaleInCooldown    = 5 * time.Minute
	// triggerGap is the least time between two evaluations a placement
	// without capacity triggers.
	triggerGap = 10 * time.Second
)

// Config configures the capacity service.
type Config struct {
	service.Base
	Fleets *fleet.Service
	// Provisioners by location; a location without one is not reconciled.
	Provisioners map[string]Provisioner
	// Placements, when set, gives QueueDepth and WaitTime.
	Placements Backlog
	// ReconcileInterval is how often every managed location is reconciled.
	ReconcileInterval time.Duration
	// RegisterDeadline is how long a provisioned host has to register.
	RegisterDeadline time.Duration
	// ReleaseDeadline is how long a released host has to deregister before
	// its compute is deregistered for it.
	ReleaseDeadline time.Duration
	// BaseBackoff and MaxBackoff pace retries of a failed host.
	BaseBackoff, MaxBackoff time.Duration
	// EvaluationInterval is how often scaling policies are evaluated
	// (GameLift: each minute; EvaluationPeriods count these).
	EvaluationInterval time.Duration
	// ScaleInCooldown is how long after a policy changed a location's
	// capacity no policy lowers it.
	ScaleInCooldown time.Duration
	// Registerer receives the metrics (nil: not registered).
	Registerer prometheus.Registerer
}

// Service reconciles managed locations and evaluates scaling policies.
type Service struct {
	cfg     Config
	metrics *metrics
	wake    chan struct{}
	trigger chan struct{}
	// lastEval is owned by Run.
	lastEval time.Time

	// planMu is held while a pass decides a location's plan and claims its
	// calls (reconcile); it is taken before mu.
	planMu sync.Mutex
	// calls are the provisioner calls running (startCalls); Run waits for
	// them when it stops.
	calls sync.WaitGroup

	mu sync.Mutex
	// askedHosts are the pending hosts this Service asked a provisioner
	// for; others were asked before this control plane started.
	askedHosts map[string]bool
	// calling are the hosts (<fleetId>/<computeName>) with a provisioner
	// call in flight.
	calling map[string]bool
	// slots are each location's provisioner workers (workers).
	slots map[string]chan struct{}
}

// New returns the capacity service.
func New(cfg Config) *Service {
	cfg.Base = cfg.Base.WithDefaults()
	defaults := []struct {
		d   *time.Duration
		def time.Duration
	}{{&cfg.ReconcileInterval, DefaultReconcileInterval}, {&cfg.RegisterDeadline, DefaultRegisterDeadline},
		{&cfg.ReleaseDeadline, DefaultReleaseDeadline}, {&cfg.BaseBackoff, DefaultBaseBackoff}, {&cfg.MaxBackoff, DefaultMaxBackoff},
		{&cfg.EvaluationInterval, DefaultEvaluationInterval}, {&cfg.ScaleInCooldown, DefaultScaleInCooldown}}
	for _, d := range defaults {
		if *d.d <= 0 {
			*d.d = d.def
		}
	}
	s := &Service{cfg: cfg, metrics: newMetrics(cfg.Registerer), wake: make(chan struct{}, 1), trigger: make(chan struct{}, 1), askedHosts: map[string]bool{},
		calling: map[string]bool{}, slots: map[string]chan struct{}{}}
	if cfg.Fleets != nil {
		cfg.Fleets.OnCapacityChange(func(string, string) { s.Wake() })
	}
	for _, p := range cfg.Provisioners {
		if l, ok := p.(*Local); ok {
			l.setOnExit(s.agentExited)
		}
	}
	return s
}

// agentExited hears that a local agent exited with err. One that never
// registered counts as a failed Provision, asked again after the backoff,
// rather than a host on its way until RegisterDeadline; failed ignores a
// host no longer pending.
func (s *Service) agentExited(h Host, err error, logPath string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	why := fmt.Sprintf("its agent exited before registering (%v; its log: %s)", err, logPath)
	if err := s.failed(ctx, h.FleetID, h.Location, h.ComputeName, "exited", why); err != nil {
		s.cfg.Logger.Error("record a local agent's exit", "compute_name", h.ComputeName, "err", err)
	}
}

// Wake asks Run to reconcile at once.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// NoCapacity says a placement found no idle process in any of its
// candidates: Run evaluates scaling policies at once instead of waiting for
// the next minute (at most once per ten seconds).
func (s *Service) NoCapacity() {
	select {
	case s.trigger <- struct{}{}:
	default:
	}
}

// Run reconciles every ReconcileInterval and when woken, and evaluates
// scaling policies every EvaluationInterval and when a placement found no
// capacity, until ctx ends; then it waits for the provisioner calls still
// running, which ctx's end cuts short.
func (s *Service) Run(ctx context.Context) error {
	defer s.calls.Wait()
	rt := s.cfg.Clock.NewTicker(s.cfg.ReconcileInterval)
	defer rt.Stop()
	et := s.cfg.Clock.NewTicker(s.cfg.EvaluationInterval)
	defer et.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-rt.C():
		case <-s.wake:
		case <-et.C():
			s.evaluate(ctx, false)
		case <-s.trigger:
			s.noCapacityPass(ctx)
			continue
		}
		s.reconcileAll(ctx)
	}
}

// noCapacityPass is Run's answer to NoCapacity: evaluate the scaling
// policies at once, then reconcile what they decided — unless the last
// evaluation is less than triggerGap old. Past capacity every placement
// attempt triggers, and reconciling for each would read every compute of
// every managed location in the store's writer, back to back, while the
// writer is busiest; within the gap a pass changes nothing.
func (s *Service) noCapacityPass(ctx context.Context) {
	if s.cfg.Clock.Now().Sub(s.lastEval) < triggerGap {
		return
	}
	s.evaluate(ctx, true)
	s.reconcileAll(ctx)
}

func (s *Service) reconcileAll(ctx context.Context) {
	if err := s.ReconcileAll(ctx); err != nil && ctx.Err() == nil {
		s.cfg.Logger.Error("capacity reconcile", "err", err)
	}
}

func (s *Service) evaluate(ctx context.Context, triggered bool) {
	s.lastEval = s.cfg.Clock.Now()
	if err := s.Evaluate(ctx, triggered); err != nil && ctx.Err() == nil {
		s.cfg.Logger.Error("scaling policy evaluation", "err", err)
	}
}
