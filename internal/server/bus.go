package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/bus/natsbus"
	"github.com/musterhq/muster/internal/bus/pgbus"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/backend"
)

// replicaBus is the bus between this replica and the others sharing its
// store: NATS with --nats, PostgreSQL LISTEN/NOTIFY when the store is
// PostgreSQL, and bus.Local for SQLite (one process per file). It also
// carries the "events committed" wake-up (bus.Events): after a local
// commit appends events to the outbox it publishes TopicEvents, and a
// TopicEvents from another replica wakes this replica's outbox readers
// (Wake).
type replicaBus struct {
	bus.Bus
	// id names this replica in its own messages (host, pid, random part).
	id  string
	log *slog.Logger
	// events wakes this replica's outbox readers on other replicas'
	// commits, and announces this replica's.
	events atomic.Pointer[bus.Events]
	// publisher publishes the outbox to JetStream (--nats): one replica at
	// a time runs it, under a lease (mountPush).
	publisher *natsbus.Publisher
	// run keeps the bus's connection (pgbus) and the announcer; close
	// releases what open made.
	run       []func(ctx context.Context) error
	close     []func()
	closeOnce sync.Once

	mu     sync.Mutex
	resync []func()
}

// openBus chooses and opens the bus for cfg and db.
func openBus(ctx context.Context, cfg Config, db store.Store, clk clock.Clock, log *slog.Logger) (*replicaBus, error) {
	rb := &replicaBus{id: cfg.ReplicaID, log: log}
	if rb.id == "" {
		rb.id = newReplicaID()
	}
	kind, target, err := backend.Parse(cfg.Store, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.NATS != "":
		nc, err := natsbus.Connect(cfg.NATS, "muster "+rb.id, rb.reconnected)
		if err != nil {
			return nil, fmt.Errorf("--nats: %w", err)
		}
		nb, err := natsbus.New(natsbus.Config{Conn: nc, Logger: log})
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("--nats: %w", err)
		}
		rb.Bus = nb
		rb.close = append(rb.close, func() { nb.Close(); nc.Close() })
		pub, err := natsbus.NewPublisher(ctx, natsbus.PublisherConfig{Conn: nc, Clock: clk,
			Outbox: outbox.New(outbox.Config{Store: db, Clock: clk, Wake: rb.Wake})})
		if err != nil {
			rb.Close()
			return nil, fmt.Errorf("--nats: %w", err)
		}
		rb.publisher = pub
	case kind == backend.Postgres:
		pb, err := pgbus.New(ctx, pgbus.Config{URL: target, Logger: log, Clock: clk, Resync: rb.reconnected})
		if err != nil {
			return nil, err
		}
		rb.Bus = pb
		rb.run = append(rb.run, pb.Run)
	default:
		rb.Bus = &bus.Local{}
	}
	events := bus.NewEvents(rb.Bus, rb.id, log)
	rb.events.Store(events)
	if n, ok := db.(store.EventNotifier); ok && (cfg.NATS != "" || kind == backend.Postgres) {
		rb.run = append(rb.run, func(ctx context.Context) error { return events.Announce(ctx, n) })
	}
	return rb, nil
}

// newReplicaID returns an id unique to this process: host, pid and a
// random part (a restarted replica is a new one).
func newReplicaID() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Wake returns a channel closed when another replica commits events or the
// bus reconnects (outbox.Config.Wake).
func (rb *replicaBus) Wake() <-chan struct{} { return rb.events.Load().Wake() }

// OnResync registers fn to run after every reconnection of the bus, when
// messages sent meanwhile were lost: receivers catch up from the store.
func (rb *replicaBus) OnResync(fn func()) {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	rb.resync = append(rb.resync, fn)
}

func (rb *replicaBus) reconnected() {
	if events := rb.events.Load(); events != nil { // nil until openBus has finished
		events.Resync()
	}
	rb.mu.Lock()
	fns := append([]func(){}, rb.resync...)
	rb.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// Run keeps the bus's connections until ctx ends (a background part).
func (rb *replicaBus) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, run := range rb.run {
		wg.Go(func() {
			if err := run(ctx); err != nil && ctx.Err() == nil {
				rb.log.Error("bus stopped", "err", err)
			}
		})
	}
	wg.Wait()
	rb.Close()
	return nil
}

// Close releases the bus's connections; later calls do nothing.
func (rb *replicaBus) Close() {
	rb.closeOnce.Do(func() {
		for _, c := range rb.close {
			c()
		}
	})
}
