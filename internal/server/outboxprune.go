package server

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/webhook"
)

// DefaultOutboxRetention is how long outbox events are kept unless
// configured: long enough for a consumer down over a weekend to resume.
const DefaultOutboxRetention = 7 * 24 * time.Hour

// outboxPruneInterval is how often the outbox is pruned; outboxPruneBatch
// bounds the events one transaction deletes, so pruning a large backlog
// never holds the store's writer for long.
const (
	outboxPruneInterval = 10 * time.Minute
	outboxPruneBatch    = 10_000
)

// outboxPruner deletes outbox events older than the retention, but never
// one that an enabled webhook subscription has still to deliver. Streams
// that resume from before what is kept get a reset (package push).
type outboxPruner struct {
	store     store.EventPruner
	retain    func(ctx context.Context) (seq int64, ok bool, err error)
	clock     clock.Clock
	retention time.Duration
	log       *slog.Logger
	pruned    prometheus.Counter
}

// startOutboxPruning runs the pruner in the background when the store can
// prune (both backends can). Called by mountWebhooks: pruning waits for
// the webhooks' cursors.
func (s *Server) startOutboxPruning(d *deps, hooks *webhook.Service) {
	ep, ok := d.store.(store.EventPruner)
	if !ok {
		return
	}
	retention := s.cfg.OutboxRetention
	if retention <= 0 {
		retention = DefaultOutboxRetention
	}
	p := &outboxPruner{store: ep, retain: hooks.Retain, clock: d.clock, retention: retention, log: d.log,
		pruned: prometheus.NewCounter(prometheus.CounterOpts{Name: "muster_outbox_pruned_events_total",
			Help: "Outbox events deleted because they were older than the retention and delivered to every enabled subscription."})}
	d.reg.MustRegister(p.pruned)
	s.leased("outbox/prune", p.run) // one replica prunes at a time
}

// run prunes every outboxPruneInterval on the clock until ctx ends.
func (p *outboxPruner) run(ctx context.Context) error {
	t := p.clock.NewTicker(outboxPruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
		if n, err := p.prune(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("pruning the outbox failed; trying again at the next round", "err", err)
		} else if n > 0 {
			p.log.Debug("pruned the outbox", "events", n)
		}
	}
}

// prune deletes what may go now, batch by batch.
func (p *outboxPruner) prune(ctx context.Context) (int64, error) {
	through := int64(math.MaxInt64)
	seq, ok, err := p.retain(ctx)
	if err != nil {
		return 0, err
	}
	if ok {
		through = seq
	}
	before := p.clock.Now().Add(-p.retention)
	var total int64
	for {
		n, err := p.store.PruneEvents(ctx, before, through, outboxPruneBatch)
		total += n
		p.pruned.Add(float64(n))
		if err != nil || n < outboxPruneBatch {
			return total, err
		}
	}
}
