package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/store/backend"
)

// Background work shared between replicas. On a store several replicas
// share (PostgreSQL), each piece of background work — a matchmaking
// configuration's pool, the placer, the fleet and session sweeps, a
// webhook subscription's delivery — runs on the one replica holding its
// lease (package lease). On SQLite, which one process opens, there are no
// leases: this replica runs everything, as it always did.

// LeaseTTL is how long a lease lasts without renewal: a replica that dies
// loses its pieces about this long (plus a third of it) after.
const LeaseTTL = lease.DefaultTTL

// leaseManager returns the replica's lease.Manager, made on first use;
// nil when the store is not shared.
func (s *Server) leaseManager() *lease.Manager {
	if s.leases != nil || s.noLeases {
		return s.leases
	}
	kind, _, err := backend.Parse(s.cfg.Store, s.cfg.DataDir)
	if err != nil || kind != backend.Postgres {
		s.noLeases = true
		return nil
	}
	id := s.cfg.ReplicaID
	if id == "" && s.bus != nil {
		id = s.bus.id
	}
	s.leases = lease.NewManager(lease.Config{Store: s.store, Clock: s.clock, Logger: s.log.With(slog.String("replica", id)),
		Replica: id, Address: s.cfg.AdvertiseAddr, TTL: s.cfg.LeaseTTL})
	s.background = append(s.background, s.runLeases)
	return s.leases
}

// runLeases runs the lease manager (a background part): it learns the
// address it advertises once the server listens.
func (s *Server) runLeases(ctx context.Context) error {
	if s.cfg.AdvertiseAddr == "" {
		if addrs := s.bound.list(); len(addrs) > 0 {
			s.leases.SetAddress(addrs[0].String())
		}
	}
	return s.leases.Run(ctx)
}

// leased runs run as the piece of background work name: under its lease
// when the store is shared, unconditionally otherwise.
func (s *Server) leased(name string, run func(ctx context.Context) error) {
	s.leasedUnder(name, run, func(ctx context.Context, _ lease.Lease) error { return run(ctx) })
}

// leasedUnder is leased for work that fences its writes with its lease:
// alone runs without leases (one replica), fenced under each lease taken.
func (s *Server) leasedUnder(name string, alone func(ctx context.Context) error, fenced func(ctx context.Context, l lease.Lease) error) {
	m := s.leaseManager()
	if m == nil {
		s.background = append(s.background, alone)
		return
	}
	m.Register(name, func(ctx context.Context, l lease.Lease) {
		if err := fenced(ctx, l); err != nil && ctx.Err() == nil {
			s.log.Error("leased background work stopped", "lease", name, "err", err)
		}
	})
}

// mountLeases serves GET /v1/admin/leases and the muster_lease_held
// metric.
func (s *Server) mountLeases(d *deps) {
	m := s.leaseManager()
	d.mux.Handle("GET /v1/admin/leases", d.requireOperator(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := auth.RequireOperator(r.Context(), false); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		out := leasesDoc{Shared: m != nil, Leases: []lease.Lease{}}
		if m != nil {
			out.Replica = m.Replica()
			leases, err := lease.List(r.Context(), s.store)
			if err != nil {
				httpx.WriteError(w, r, s.log, err)
				return
			}
			now := s.clock.Now()
			for _, l := range leases {
				if now.Before(l.ExpiresAt) {
					out.Leases = append(out.Leases, l)
				} else {
					out.Free = append(out.Free, l.Name)
				}
			}
		}
		httpx.WriteJSON(w, http.StatusOK, out)
	})))
	if m != nil {
		d.reg.MustRegister(heldCollector{m})
	}
}

// leasesDoc is GET /v1/admin/leases.
type leasesDoc struct {
	// Shared is false on a store only this replica opens: it runs all
	// background work, without leases.
	Shared bool `json:"shared"`
	// Replica is the id of the replica that answered.
	Replica string `json:"replica,omitempty"`
	// Leases are the leases held now; Free names those expired or
	// released, waiting for a replica to take them.
	Leases []lease.Lease `json:"leases"`
	Free   []string      `json:"free,omitempty"`
}

var heldDesc = prometheus.NewDesc("muster_lease_held", "1 for each lease this replica holds, by lease name.", []string{"lease"}, nil)

// heldCollector reports the leases this replica holds.
type heldCollector struct{ m *lease.Manager }

func (c heldCollector) Describe(ch chan<- *prometheus.Desc) { ch <- heldDesc }

func (c heldCollector) Collect(ch chan<- prometheus.Metric) {
	for _, l := range c.m.Held() {
		ch <- prometheus.MustNewConstMetric(heldDesc, prometheus.GaugeValue, 1, l.Name)
	}
}
