package pgbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/clock"
)

// channel is the one NOTIFY channel every replica listens on; a message's
// topic and payload travel in the notification's text.
const channel = "muster_bus"

// sep separates topic and payload (neither contains it).
const sep = "\x1f"

// Config configures a Bus.
type Config struct {
	// URL is where to LISTEN: PostgreSQL itself, not a transaction-mode pooler.
	URL string
	// Pool sends notifications; one is opened from URL when nil.
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	// Resync is called after every (re)connection, once LISTEN is in place:
	// receivers catch up from the store there.
	Resync func()
	// Clock paces reconnection (clock.Real{} when nil).
	Clock clock.Clock
}

// Bus is the PostgreSQL bus. Run keeps its listening connection.
type Bus struct {
	cfg     Config
	log     *slog.Logger
	subs    bus.Subscribers
	ownPool bool

	mu        sync.Mutex
	listening chan struct{} // closed once the first LISTEN is in place
}

var _ bus.Bus = (*Bus)(nil)

// New returns a Bus; call Run to start listening.
func New(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	b := &Bus{cfg: cfg, log: cfg.Logger, listening: make(chan struct{})}
	if cfg.Pool == nil {
		pool, err := pgxpool.New(ctx, cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("pgbus: %w", err)
		}
		b.cfg.Pool, b.ownPool = pool, true
	}
	return b, nil
}

// Publish notifies every replica. Call it after the change it announces
// has committed.
func (b *Bus) Publish(ctx context.Context, topic, payload string) error {
	if strings.Contains(topic, sep) || strings.Contains(payload, sep) {
		return fmt.Errorf("pgbus: topic and payload may not contain \\x1f")
	}
	if _, err := b.cfg.Pool.Exec(ctx, "SELECT pg_notify($1, $2)", channel, topic+sep+payload); err != nil {
		return fmt.Errorf("pgbus: notify %s: %w", topic, err)
	}
	return nil
}

// Subscribe registers fn for topic.
func (b *Bus) Subscribe(topic string, fn func(string)) func() { return b.subs.Add(topic, fn) }

// Listening returns a channel closed once the bus first listens.
func (b *Bus) Listening() <-chan struct{} { return b.listening }

// Run listens until ctx ends, reconnecting with backoff.
func (b *Bus) Run(ctx context.Context) error {
	defer func() {
		if b.ownPool {
			b.cfg.Pool.Close()
		}
	}()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := b.listen(ctx)
		if ctx.Err() != nil {
			return nil
		}
		b.log.Warn("bus connection lost; reconnecting", "err", err, "in", backoff)
		t := b.cfg.Clock.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	return nil
}

// listen holds one connection until it fails or ctx ends.
func (b *Bus) listen(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, b.cfg.URL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	b.mu.Lock()
	select {
	case <-b.listening:
	default:
		close(b.listening)
	}
	b.mu.Unlock()
	if b.cfg.Resync != nil {
		b.cfg.Resync()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		topic, payload, ok := strings.Cut(n.Payload, sep)
		if !ok {
			continue // not ours
		}
		b.subs.Deliver(topic, payload)
	}
}
