package natsbus

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/musterhq/muster/internal/bus"
)

// busPrefix is the subject prefix of bus messages.
const busPrefix = "muster.bus."

// Config configures a Bus.
type Config struct {
	// Conn is the NATS connection; the Bus sets no handlers on it other
	// than through Resync's caller (see Connect).
	Conn   *nats.Conn
	Logger *slog.Logger
}

// Bus is the bus over core NATS.
type Bus struct {
	nc   *nats.Conn
	log  *slog.Logger
	subs bus.Subscribers
	sub  *nats.Subscription
}

var _ bus.Bus = (*Bus)(nil)

// Connect dials url and calls resync after every reconnection, when
// messages sent meanwhile were lost.
func Connect(url, name string, resync func()) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1)}
	if resync != nil {
		opts = append(opts, nats.ReconnectHandler(func(*nats.Conn) { resync() }))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats: connect %s: %w", url, err)
	}
	return nc, nil
}

// New subscribes to every bus topic on cfg.Conn.
func New(cfg Config) (*Bus, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Bus{nc: cfg.Conn, log: cfg.Logger}
	sub, err := cfg.Conn.Subscribe(busPrefix+">", func(m *nats.Msg) {
		b.subs.Deliver(strings.TrimPrefix(m.Subject, busPrefix), string(m.Data))
	})
	if err != nil {
		return nil, fmt.Errorf("nats: subscribe: %w", err)
	}
	b.sub = sub
	// Flush so that the subscription is in place at the server before New
	// returns: a message published right after is then received.
	if err := cfg.Conn.Flush(); err != nil {
		return nil, fmt.Errorf("nats: subscribe: %w", err)
	}
	return b, nil
}

// Publish sends payload on topic to every replica.
func (b *Bus) Publish(_ context.Context, topic, payload string) error {
	if err := b.nc.Publish(busPrefix+topic, []byte(payload)); err != nil {
		return fmt.Errorf("nats: publish %s: %w", topic, err)
	}
	return nil
}

// Subscribe registers fn for topic.
func (b *Bus) Subscribe(topic string, fn func(string)) func() { return b.subs.Add(topic, fn) }

// Close stops receiving.
func (b *Bus) Close() error { return b.sub.Unsubscribe() }
