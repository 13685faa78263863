package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

// KindCursor is a consumer's durable cursor: id = the consumer's name.
const KindCursor = "outboxcursor"

// Config configures a Reader.
type Config struct {
	Store store.Store
	Clock clock.Clock
	// Poll bounds how long a Reader waits for a commit nobody told it
	// about (default 1 s).
	Poll time.Duration
	// Wake, when set, returns a channel closed when another process
	// committed events (the bus between replicas).
	Wake func() <-chan struct{}
	// Batch is how many events a handler receives at most (default 256).
	Batch int
}

// Reader follows the outbox.
type Reader struct {
	cfg Config
}

// New returns a Reader.
func New(cfg Config) *Reader {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	return &Reader{cfg: cfg}
}

// Handler receives each batch of events in commit order. An error stops
// the stream; the batch has not been consumed.
type Handler func(ctx context.Context, events []store.Event) error

// Follow calls handle with every event after the sequence number after, in
// commit order, batch by batch, waiting for new ones when it has caught
// up, until ctx ends (it then returns nil) or handle fails.
func (r *Reader) Follow(ctx context.Context, after int64, handle Handler) error {
	return r.follow(ctx, after, func(ctx context.Context, evs []store.Event) (int64, error) {
		if err := handle(ctx, evs); err != nil {
			return 0, err
		}
		return evs[len(evs)-1].Seq, nil
	})
}

// Consume is Follow from the consumer's durable cursor, which it advances
// after each batch handle accepts.
func (r *Reader) Consume(ctx context.Context, consumer string, handle Handler) error {
	after, err := Cursor(ctx, r.cfg.Store, consumer)
	if err != nil {
		return err
	}
	return r.follow(ctx, after, func(ctx context.Context, evs []store.Event) (int64, error) {
		if err := handle(ctx, evs); err != nil {
			return 0, err
		}
		// A handled batch is recorded even when ctx ends meanwhile: the
		// save is cheap, and skipping it would hand the batch out again.
		last := evs[len(evs)-1].Seq
		return last, saveCursor(context.WithoutCancel(ctx), r.cfg.Store, consumer, last)
	})
}

// Drain is Consume that returns once it has caught up instead of waiting
// for more: a direct pass for tests and for work that runs on its own
// schedule.
func (r *Reader) Drain(ctx context.Context, consumer string, handle Handler) error {
	after, err := Cursor(ctx, r.cfg.Store, consumer)
	if err != nil {
		return err
	}
	for {
		var page []store.Event
		err := r.cfg.Store.View(ctx, func(rd store.Reader) error {
			var err error
			page, err = rd.Events(ctx, store.EventQuery{After: after, Limit: r.cfg.Batch})
			return err
		})
		if err != nil || len(page) == 0 {
			return err
		}
		if err := handle(ctx, page); err != nil {
			return err
		}
		after = page[len(page)-1].Seq
		if err := saveCursor(context.WithoutCancel(ctx), r.cfg.Store, consumer, after); err != nil {
			return err
		}
	}
}

func (r *Reader) follow(ctx context.Context, after int64, step func(context.Context, []store.Event) (int64, error)) error {
	for {
		// Take the wake-up channels before reading, so a commit that lands
		// between the read and the wait is not slept through.
		var local, remote <-chan struct{}
		if n, ok := r.cfg.Store.(store.EventNotifier); ok {
			local = n.EventsCommitted()
		}
		if r.cfg.Wake != nil {
			remote = r.cfg.Wake()
		}
		var page []store.Event
		err := r.cfg.Store.View(ctx, func(rd store.Reader) error {
			var err error
			page, err = rd.Events(ctx, store.EventQuery{After: after, Limit: r.cfg.Batch})
			return err
		})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if len(page) > 0 {
			next, err := step(ctx, page)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			after = next
			if len(page) == r.cfg.Batch {
				continue // more may be waiting already
			}
		}
		if !r.wait(ctx, local, remote) {
			return nil
		}
	}
}

// wait returns when a wake-up arrives or the poll interval passes, false
// when ctx ended.
func (r *Reader) wait(ctx context.Context, local, remote <-chan struct{}) bool {
	t := r.cfg.Clock.NewTimer(r.cfg.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-local:
	case <-remote:
	case <-t.C():
	}
	return true
}

type cursorDoc struct {
	Seq int64 `json:"seq"`
}

// Cursor returns a consumer's durable cursor (0 before its first batch).
func Cursor(ctx context.Context, s store.Store, consumer string) (int64, error) {
	var seq int64
	err := s.View(ctx, func(r store.Reader) error {
		c, _, err := store.GetJSON[cursorDoc](ctx, r, KindCursor, consumer)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		seq = c.Seq
		return err
	})
	return seq, err
}

func saveCursor(ctx context.Context, s store.Store, consumer string, seq int64) error {
	doc, _ := json.Marshal(cursorDoc{Seq: seq})
	return s.Update(ctx, func(w store.Writer) error {
		_, err := w.Put(ctx, store.Record{Kind: KindCursor, ID: consumer, Doc: doc, Upsert: true})
		return err
	})
}
