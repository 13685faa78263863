package natsbus

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/store"
)

// Stream defaults.
const (
	DefaultStream     = "MUSTER_EVENTS"
	DefaultDuplicates = 2 * time.Minute
	eventsPrefix      = "muster.events."
	// cursorName is the outbox consumer whose cursor the publisher keeps.
	cursorName = "nats-publisher"
)

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	Conn   *nats.Conn
	Outbox *outbox.Reader
	// Stream is the JetStream stream's name (DefaultStream when empty).
	Stream string
	// Duplicates is the stream's de-duplication window: a re-publication
	// of one event id inside it is dropped (DefaultDuplicates when zero).
	Duplicates time.Duration
	// Clock paces retries after a failed publication (clock.Real{} when nil).
	Clock clock.Clock
}

// Publisher publishes every outbox event to JetStream, at least once, in
// commit order.
type Publisher struct {
	cfg PublisherConfig
	js  jetstream.JetStream
}

// NewPublisher creates or updates the stream.
func NewPublisher(ctx context.Context, cfg PublisherConfig) (*Publisher, error) {
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.Duplicates <= 0 {
		cfg.Duplicates = DefaultDuplicates
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	js, err := jetstream.New(cfg.Conn)
	if err != nil {
		return nil, fmt.Errorf("nats: jetstream: %w", err)
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       cfg.Stream,
		Subjects:   []string{eventsPrefix + ">"},
		Duplicates: cfg.Duplicates,
		Storage:    jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("nats: stream %s: %w", cfg.Stream, err)
	}
	return &Publisher{cfg: cfg, js: js}, nil
}

// Subject is where an event of this type is published.
func Subject(eventType string) string {
	// Subject tokens may not hold separators or wildcards.
	clean := strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '>', ' ', '\t':
			return '_'
		}
		return r
	}, eventType)
	return eventsPrefix + clean
}

// Run publishes until ctx ends. A failed publication stops the batch
// before the cursor moves, and the batch is published again (the stream's
// duplicate window drops the part that already went through).
func (p *Publisher) Run(ctx context.Context) error { return p.RunUnder(ctx, nil) }

// RunUnder is Run for a replica holding the publisher's lease: check (a
// lease.Check) runs in every transaction that moves the cursor, so a
// replica paused past its lease cannot move the cursor of the one that
// took over.
func (p *Publisher) RunUnder(ctx context.Context, check func(ctx context.Context, w store.Writer) error) error {
	consumer := outbox.Consumer{Name: cursorName, Check: check}
	publish := func(ctx context.Context, evs []store.Event) (int64, error) { return 0, p.publish(ctx, evs) }
	for ctx.Err() == nil {
		err := p.cfg.Outbox.ConsumeSettled(ctx, consumer, publish)
		if err == nil || ctx.Err() != nil {
			return nil
		}
		t := p.cfg.Clock.NewTimer(time.Second) // a broken connection: try again shortly
		select {
		case <-ctx.Done():
		case <-t.C():
		}
		t.Stop()
	}
	return nil
}

// PublishPending publishes every event the cursor has not passed yet and
// returns: a direct pass, for tests.
func (p *Publisher) PublishPending(ctx context.Context) error {
	return p.cfg.Outbox.Drain(ctx, cursorName, p.publish)
}

func (p *Publisher) publish(ctx context.Context, events []store.Event) error {
	for _, e := range events {
		msg := &nats.Msg{Subject: Subject(e.Type), Data: e.Doc, Header: nats.Header{}}
		msg.Header.Set("Muster-Event-Seq", fmt.Sprint(e.Seq))
		if _, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(e.ID)); err != nil {
			return fmt.Errorf("nats: publish event %s: %w", e.ID, err)
		}
	}
	return nil
}
