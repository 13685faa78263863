package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/musterhq/muster/internal/api/controlapi"
	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/push"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/sigv4"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/backend"
	"github.com/musterhq/muster/internal/tagging"
)

// Config is what `muster serve` is told.
type Config struct {
	Listen  string
	DataDir string
	// Store is the store's URL (store/backend): empty for
	// <DataDir>/muster.db, a path or sqlite://PATH, or postgres://….
	Store string
	// AddrFile, when set, receives the bound address once listening (for
	// tests and scripts that listen on port 0).
	AddrFile string
	Region   string
	Account  string
	// MasterKey seals secrets at rest; empty means <data-dir>/master.key.
	MasterKey string
	// AdminAccessKeyID and AdminSecretAccessKey become the first admin key.
	AdminAccessKeyID     string
	AdminSecretAccessKey string
	ShutdownTimeout      time.Duration
	MaxSkew              time.Duration
	// FakeClock starts the clock at the real time but moves it only through
	// POST /v1/admin/clock/advance: for end-to-end tests of timeouts.
	FakeClock bool
	Dev       bool
	// OnListening, when set, is called with the bound address once the
	// control plane listens (dev mode starts its local agent from it).
	OnListening func(addr string)
	Version     string
	// Hosting (hosting.go): the server SDK endpoint's listen address
	// (default DefaultSDKListen), the URL RegisterCompute advertises
	// (default ws://<bound address>), its TLS certificate and key (default:
	// generated into DataDir), and a file that receives the bound address.
	SDKListen, SDKURL, SDKTLSCert, SDKTLSKey, SDKAddrFile string
	// SDKPingTimeout is how long, in real time, an SDK socket has to answer
	// a ping before it is dropped; zero means sdk.DefaultPingTimeout.
	SDKPingTimeout time.Duration
	// MatchmakingCycleInterval is the longest time between two cycles of a
	// configuration's pool, MatchmakingTicketRetention how long finished
	// tickets stay readable; zero means the matchmaking defaults (250 ms, 1 h).
	MatchmakingCycleInterval, MatchmakingTicketRetention time.Duration
	// Player configures player identities, tokens and the player API (identity.go).
	Player PlayerConfig
	// TLSCert and TLSKey are the main listener's certificate and key (PEM
	// files): HTTPS with HTTP/2, reloaded on SIGHUP or when the files
	// change (listener.go). Empty: plain HTTP.
	TLSCert, TLSKey string
	// WebhookAllowPrivate lets webhook deliveries and studio hooks reach
	// loopback and private networks, and hooks be http://
	// (--webhook-allow-private); link-local, metadata and Muster's own
	// addresses stay refused.
	WebhookAllowPrivate bool
	// CapacityProvisioners configures, by custom location, the provisioner
	// that adds and removes its hosts (capacity.ParseSpecs: a JSON object).
	// It comes only from the operator's configuration, never the API.
	CapacityProvisioners string
	// Provisioners are provisioners given in code, by custom location
	// (serve --dev's local provisioner, which it runs and stops itself).
	Provisioners map[string]capacity.Provisioner
	// CapacityScaleInCooldown is capacity.Config.ScaleInCooldown.
	CapacityScaleInCooldown time.Duration
	// CapacityMaxInstances is the most computes one fleet location's
	// capacity may ask for (fleet.Config.MaxInstances; zero means
	// fleet.DefaultMaxInstances).
	CapacityMaxInstances int
	// AgentHeartbeatInterval is how often host agents heartbeat
	// (fleet.Config.HeartbeatInterval).
	AgentHeartbeatInterval time.Duration
	// MetricsListen, when set, serves /metrics on its own address
	// (loopback when no host is given), and /metrics on the main listener
	// then needs an operator key.
	MetricsListen string
	// TrustedProxies are the CIDRs of TLS-terminating proxies whose
	// X-Forwarded-Proto: https is believed; AllowInsecureBearer accepts
	// bearer operator keys over plain HTTP from anywhere.
	TrustedProxies      []string
	AllowInsecureBearer bool
	// Limits and SDKLimits are the main and SDK listeners' connection and
	// request limits (limits.go); zero fields take httpx's defaults. On
	// the SDK listener MaxConnsPerClient caps each compute's sockets.
	Limits, SDKLimits httpx.Limits
	// ShedWriteDelay is how long writes may wait for the store's writer
	// before new sign-ins and tickets are refused at the door (default
	// DefaultShedWriteDelay; negative: never refused). See shedding.go.
	ShedWriteDelay time.Duration
	// OutboxRetention is how long outbox events are kept (default
	// DefaultOutboxRetention); pruning never passes an enabled webhook
	// subscription's cursor (outboxprune.go).
	OutboxRetention time.Duration
	// NATS, when set (--nats nats://…), carries the bus between replicas
	// and receives every outbox event on muster.events.<type> (bus.go).
	NATS string
	// ReplicaID names this replica among those sharing the store (default:
	// host, pid and a random part); AdvertiseAddr is the address shown
	// with its leases (default: the bound listen address); LeaseTTL is a
	// lease's life without renewal (default 3 s). See leases.go.
	ReplicaID, AdvertiseAddr string
	LeaseTTL                 time.Duration
}

// Server is an assembled control plane.
type Server struct {
	cfg     Config
	log     *slog.Logger
	clock   clock.Clock
	fake    *clock.Fake
	store   store.Store
	keys    *identity.OperatorKeys
	box     *secret.Box
	handler http.Handler
	reg     *prometheus.Registry

	// mounts are the capabilities' mount functions (see deps), registered
	// by each capability's file in init-free constructors below.
	mounts []func(*deps)
	// background are long-running parts (matchmaking loops, the SDK
	// listener, sweepers) that Run starts and stops with the server. Each
	// returns when its context ends.
	background []func(ctx context.Context) error
	// routePatterns are the HTTP patterns the server serves.
	routePatterns []string
	// stopFirst are background parts stopped before the listeners close.
	stopFirst []func(ctx context.Context) error
	// mountErr is the first error a mount function reported; New fails with it.
	mountErr error
	// bound are the addresses the listeners bound (webhooks refuse them).
	bound boundAddrs
	// Hosting is the hosting capability's services (hosting.go).
	Hosting Hosting
	// Capacity is the capacity service (capacity.go).
	Capacity *capacity.Service
	// certs serves the main listener's certificate (nil: plain HTTP);
	// trustedProxies are Config.TrustedProxies parsed.
	certs          *certReloader
	trustedProxies []netip.Prefix
	// limiter, sdkLimiter and metricsLimiter apply the listeners' limits
	// (limits.go).
	limiter, sdkLimiter, metricsLimiter *httpx.Limiter
	// readyCheck, when set (SetReadyCheck), must also pass for /readyz.
	readyCheck func(ctx context.Context) error
	// stopping is set once Run's context ends: /readyz answers 503.
	stopping atomic.Bool
	// bus is the bus between replicas (bus.go).
	bus *replicaBus
	// leases runs background work under leases when the store is shared
	// (leases.go); nil, with noLeases set, when it is not.
	leases   *lease.Manager
	noLeases bool
}

// New assembles a server. It opens the store (applying migrations) and
// bootstraps the first admin key, so the data directory is ready when it
// returns.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Account == "" {
		cfg.Account = "000000000000"
	}
	if !regionPattern.MatchString(cfg.Region) {
		return nil, fmt.Errorf("--region: %q must look like an AWS region ([a-z]{2}-[a-z]+-N, e.g. %s): the server SDKs validate game session ARNs locally", cfg.Region, DefaultRegion)
	}
	if !accountPattern.MatchString(cfg.Account) {
		return nil, fmt.Errorf("--account: %q must be 12 digits", cfg.Account)
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	s := &Server{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	if err := s.configureListener(); err != nil {
		return nil, err
	}
	s.clock = clock.Real{}
	if cfg.FakeClock {
		s.fake = clock.NewFake(time.Now())
		s.clock = s.fake
		log.Warn("fake clock enabled: time moves only through POST /v1/admin/clock/advance; never use this in production")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	db, err := backend.Open(ctx, backend.Config{URL: cfg.Store, DataDir: cfg.DataDir, Clock: s.clock, Logger: log, Server: true})
	if err != nil {
		return nil, err
	}
	s.store = db
	if s.bus, err = openBus(ctx, cfg, db, s.clock, log); err != nil {
		db.Close()
		return nil, err
	}
	s.background = append(s.background, s.bus.Run)
	box, err := openBox(cfg, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.box = box
	s.keys = identity.NewOperatorKeys(identity.KeysConfig{Base: service.Base{Store: db, Clock: s.clock, Logger: log}, Box: box})
	boot, err := s.keys.Bootstrap(ctx, cfg.DataDir, cfg.AdminAccessKeyID, cfg.AdminSecretAccessKey)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bootstrap admin key: %w", err)
	}
	switch {
	case boot.CredentialsFile != "":
		log.Info("created the first admin access key; its credentials are in a 0600 file", "access_key_id", boot.AccessKeyID, "path", boot.CredentialsFile)
	case boot.Created:
		log.Info("created the first admin access key from the environment", "access_key_id", boot.AccessKeyID)
	}
	s.mounts = capabilityMounts(s)
	s.handler = s.routes()
	if s.mountErr != nil {
		db.Close()
		return nil, s.mountErr
	}
	return s, nil
}

func openBox(cfg Config, log *slog.Logger) (*secret.Box, error) {
	var key []byte
	if cfg.MasterKey != "" {
		k, err := secret.ParseKey(cfg.MasterKey)
		if err != nil {
			return nil, fmt.Errorf("MUSTER_MASTER_KEY: %w", err)
		}
		key = k
	} else {
		path := filepath.Join(cfg.DataDir, "master.key")
		k, created, err := secret.LoadOrCreateKeyFile(path)
		if err != nil {
			return nil, err
		}
		if created {
			log.Info("generated the master key that seals secrets at rest; back it up apart from the database", "path", path)
		}
		key = k
	}
	return secret.NewBox(key)
}

// routeMux is the server's ServeMux, remembering every pattern so a test
// can hold the OpenAPI document to the routes that really exist.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

// Handle registers h for pattern.
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// HandleFunc registers f for pattern.
func (m *routeMux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(f))
}

// deps is what every capability's mount function gets: the shared parts of
// the server, the control-API operation table and the HTTP mux. Each
// capability mounts itself from its own file in this package
// (mount<Capability>), so capabilities do not edit each other's wiring.
type deps struct {
	store   store.Store
	box     *secret.Box
	clock   clock.Clock
	log     *slog.Logger
	reg     *prometheus.Registry
	arns    gamelift.ARNBuilder
	formats *gamelift.Formats
	tags    *tagging.Service
	opAuth  httpx.OperatorAuth
	// requireOperator authenticates /v1/admin routes.
	requireOperator func(http.Handler) http.Handler
	table           *controlapi.Table
	mux             *routeMux
	// player is set by mountIdentity, the first of capabilityMounts.
	player *playerParts
	// placement is set by mountPlacement (before mountMatchmaking).
	placement *placement.Service
	// matchmaking is set by mountMatchmaking (before mountSDKEndpoint).
	matchmaking *matchmaking.Service
	// push is set by mountPush (before mountMatchmaking).
	push *push.Hub
	// bus carries wake-ups between replicas (bus.go): Publish after commit,
	// Subscribe for ids, Wake for outbox readers, OnResync to catch up
	// from the store after messages may have been lost.
	bus *replicaBus
}

// base is what every service is built on: the same store, clock, logger
// and GameLift naming for all of them.
func (d *deps) base() service.Base {
	return service.Base{Store: d.store, Clock: d.clock, Logger: d.log, ARNs: d.arns, Formats: d.formats, Tags: d.tags}
}

func (s *Server) routes() http.Handler {
	arns := gamelift.ARNBuilder{Region: s.cfg.Region, Account: s.cfg.Account}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := httpx.NewMetrics(s.reg)
	opAuth := httpx.OperatorAuth{Verifier: &sigv4.Verifier{Secrets: s.keys, Clock: s.clock, MaxSkew: s.cfg.MaxSkew}, BearerAllowed: s.bearerAllowed}
	audit := auditor{store: s.store, log: s.log, refused: func() { s.limiter.Refuse(httpx.RefusedUnauthorized) }}
	d := &deps{
		store: s.store, box: s.box, clock: s.clock, log: s.log, reg: s.reg, arns: arns, formats: gamelift.NewFormats(),
		tags:   tagging.New(tagging.Config{Store: s.store, ARNs: arns}),
		opAuth: opAuth, requireOperator: audit.requireOperator(opAuth),
		table: controlapi.NewTable(), mux: &routeMux{ServeMux: http.NewServeMux()}, bus: s.bus,
	}
	s.mountCore(d)
	s.mountLocations(d)
	for _, mount := range s.mounts {
		if s.mountErr != nil {
			break // New fails with it; later parts (listeners) are not built
		}
		mount(d)
	}
	control := controlapi.New(controlapi.Config{Table: d.table, Auth: opAuth, Logger: s.log, Registerer: s.reg, Clock: s.clock, Audit: audit.control, AuditStart: audit.controlStart})
	// Every method reaches the control API, which refuses all but POST
	// with a 405 in the route's protocol, as the SDKs expect of an error.
	d.mux.Handle("/service/GameLift/operation/{op}", s.refuseEarly(opAuth, control))
	d.mux.Handle("/{$}", s.refuseEarly(opAuth, control))
	d.mux.Handle("/v1/", httpx.NotFound(d.mux.ServeMux, s.log))
	s.routePatterns = d.mux.patterns
	return httpx.Observe(d.mux, metrics, s.log)
}

// mountCore mounts health, metrics and the operator admin endpoints.
func (s *Server) mountCore(d *deps) {
	d.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	d.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.stopping.Load() {
			// A load balancer stops sending new work while the server
			// finishes what it has (and serve --dev drains its matches).
			httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "stopping"})
			return
		}
		if err := s.store.Ready(r.Context()); err != nil {
			httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "store not ready"})
			return
		}
		if s.readyCheck != nil {
			if err := s.readyCheck(r.Context()); err != nil {
				httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
				return
			}
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	var metrics http.Handler = promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})
	if s.cfg.MetricsListen != "" {
		metrics = d.requireOperator(operatorOnly(metrics, false, s.log)) // public on its own listener only
	}
	d.mux.Handle("GET /metrics", metrics)
	admin := adminAPI{store: s.store, keys: s.keys, log: s.log, fake: s.fake}
	d.mux.Handle("GET /v1/admin/keys", d.requireOperator(http.HandlerFunc(admin.listKeys)))
	d.mux.Handle("POST /v1/admin/keys", d.requireOperator(http.HandlerFunc(admin.createKey)))
	d.mux.Handle("DELETE /v1/admin/keys/{id}", d.requireOperator(http.HandlerFunc(admin.revokeKey)))
	// Go's profiler for operators (admin keys only): profile the running
	// server where it hurts, e.g. /debug/pprof/profile?seconds=10.
	d.mux.Handle("GET /debug/pprof/", d.requireOperator(adminOnly(http.HandlerFunc(pprof.Index), s.log)))
	d.mux.Handle("GET /debug/pprof/profile", d.requireOperator(adminOnly(http.HandlerFunc(pprof.Profile), s.log)))
	if s.fake != nil {
		d.mux.Handle("POST /v1/admin/clock/advance", d.requireOperator(http.HandlerFunc(admin.advanceClock)))
	}
}

// mountLocations mounts custom locations and the tagging operations.
func (s *Server) mountLocations(d *deps) {
	d.tags.Register(gamelift.ResourceLocation, fleet.KindLocation)
	locations := fleet.NewLocations(fleet.LocationsConfig{Base: d.base()})
	controlapi.Register(d.table, "CreateLocation", locations.CreateLocation)
	controlapi.Register(d.table, "ListLocations", locations.ListLocations)
	controlapi.Register(d.table, "DeleteLocation", locations.DeleteLocation)
	controlapi.Register(d.table, "TagResource", d.tags.TagResource)
	controlapi.Register(d.table, "UntagResource", d.tags.UntagResource)
	controlapi.Register(d.table, "ListTagsForResource", d.tags.ListTagsForResource)
}

// startBackground starts the background services. stopFirst stops and
// waits for the stop-first ones; stopAll stops and waits for all. Both may
// be called more than once.
func (s *Server) startBackground() (stopFirst, stopAll func()) {
	bgCtx, cancelBackground := context.WithCancel(context.Background())
	firstCtx, cancelFirst := context.WithCancel(context.Background())
	var bg, first sync.WaitGroup
	start := func(wg *sync.WaitGroup, ctx context.Context, run func(context.Context) error) {
		wg.Go(func() {
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Error("background service stopped", "err", err)
			}
		})
	}
	for _, run := range s.background {
		start(&bg, bgCtx, run)
	}
	for _, run := range s.stopFirst {
		start(&first, firstCtx, run)
	}
	stopFirst = func() {
		cancelFirst()
		first.Wait()
	}
	stopAll = func() {
		stopFirst()
		cancelBackground()
		bg.Wait()
	}
	return stopFirst, stopAll
}

// StartBackground starts the background services (matchmaking loops, the
// SDK endpoint, sweepers) without serving HTTP, for in-process tests that
// serve Handler themselves. Call stop before Close.
func (s *Server) StartBackground() (stop func()) {
	_, stopAll := s.startBackground()
	return stopAll
}

// AddStopFirst adds a long-running part that Run starts once listening and,
// on shutdown, stops and waits for before it stops serving: for parts that
// use the server's own APIs to stop cleanly.
func (s *Server) AddStopFirst(run func(ctx context.Context) error) {
	s.stopFirst = append(s.stopFirst, run)
}

// SetReadyCheck adds a condition to /readyz (dev mode: the dev fleet has
// a ready process). Call it before Run.
func (s *Server) SetReadyCheck(check func(ctx context.Context) error) { s.readyCheck = check }

// Routes returns every HTTP route pattern the server serves.
func (s *Server) Routes() []string { return append([]string(nil), s.routePatterns...) }

// Handler returns the server's HTTP handler (for in-process tests).
func (s *Server) Handler() http.Handler { return s.handler }

// Store returns the server's store.
func (s *Server) Store() store.Store { return s.store }

// Keys returns the operator key service.
func (s *Server) Keys() *identity.OperatorKeys { return s.keys }

// Run serves until ctx is done, then finishes in-flight requests (up to
// ShutdownTimeout) and closes the store, which commits queued writes and
// checkpoints the WAL.
func (s *Server) Run(ctx context.Context) error {
	srv, serve, err := s.listen()
	if err != nil {
		s.store.Close()
		return err
	}
	s.log.Info("muster serving", "addr", srv.Addr, "tls", s.certs != nil, "data_dir", s.cfg.DataDir, "store", backend.Describe(s.cfg.Store, s.cfg.DataDir), "version", s.cfg.Version)
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	stopFirst, stopAll := s.startBackground()
	defer stopAll()
	select {
	case err := <-errc:
		stopAll()
		s.store.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// From here /readyz says stopping. Parts that still need the API to
	// stop cleanly (the dev agent drains through it) stop before the
	// listeners close.
	s.stopping.Store(true)
	stopFirst()
	s.log.Info("shutting down: finishing in-flight requests")
	shutCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	shutErr := srv.Shutdown(shutCtx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		shutErr = errors.Join(shutErr, err)
	}
	stopAll()
	if err := s.store.Close(); err != nil {
		shutErr = errors.Join(shutErr, fmt.Errorf("close store: %w", err))
	}
	s.log.Info("stopped")
	return shutErr
}

// Close releases the store without serving (for tests using Handler).
func (s *Server) Close() error {
	s.bus.Close()
	return s.store.Close()
}

// DefaultRegion is the region in Muster's ARNs. It must match the AWS
// region shape ([a-z]{2}-[a-z]+-\d) because the official server SDKs
// validate game session ARNs locally; "mu" is not an AWS geography, so it
// never collides with a real region.
const DefaultRegion = "mu-local-1"

var (
	regionPattern  = regexp.MustCompile(`^[a-z]{2}-[a-z]+-\d$`)
	accountPattern = regexp.MustCompile(`^\d{12}$`)
)
