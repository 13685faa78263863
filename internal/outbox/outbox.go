package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	return r.ConsumeSettled(ctx, Consumer{Name: consumer}, func(ctx context.Context, evs []store.Event) (int64, error) {
		return 0, handle(ctx, evs)
	})
}

// Settler handles a batch like a Handler, settling its events in order,
// and reports how far it got when it fails: settled is the sequence number
// of the last event it is done with (0, or any number before the batch,
// for none). A nil error settles the whole batch.
type Settler func(ctx context.Context, events []store.Event) (settled int64, err error)

// Consumer names a durable cursor and says who may move it.
type Consumer struct {
	// Name is the cursor's id (kind KindCursor).
	Name string
	// Check, when set, runs inside every transaction that moves the
	// cursor and keeps it where it is by failing: a consumer working under
	// a lease passes lease.Check here, so that a holder paused past its
	// lease cannot write over the cursor of the replica that took over.
	Check func(ctx context.Context, w store.Writer) error
}

// ConsumeSettled is Consume for a handler that may stop mid-batch: the
// cursor moves past the events it settled even when it fails, so that a
// consumer cut short (cancelled, stopped, its lease lost) does not hand out
// again what it had already done.
func (r *Reader) ConsumeSettled(ctx context.Context, c Consumer, handle Settler) error {
	after, err := Cursor(ctx, r.cfg.Store, c.Name)
	if err != nil {
		return err
	}
	return r.follow(ctx, after, func(ctx context.Context, evs []store.Event) (int64, error) {
		first, last := evs[0].Seq, evs[len(evs)-1].Seq
		settled, herr := handle(ctx, evs)
		if herr == nil {
			settled = last
		}
		if settled < first {
			return 0, herr
		}
		// Never past the batch: what lies beyond was not handed out.
		settled = min(settled, last)
		// What was settled is recorded even when ctx ends meanwhile: the
		// save is cheap, and skipping it would hand those events out again.
		if err := Advance(context.WithoutCancel(ctx), r.cfg.Store, c, settled); err != nil {
			return 0, errors.Join(herr, err)
		}
		return settled, herr
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
		page, err := r.page(ctx, after)
		if err != nil || len(page) == 0 {
			return err
		}
		if err := handle(ctx, page); err != nil {
			return err
		}
		after = page[len(page)-1].Seq
		if err := Advance(context.WithoutCancel(ctx), r.cfg.Store, Consumer{Name: consumer}, after); err != nil {
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
		page, err := r.page(ctx, after)
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

// page reads the next batch after the sequence number after: from the
// store's memory of its latest commits when it holds them, which spares a
// follower woken by each commit a query to read back what was just
// written.
func (r *Reader) page(ctx context.Context, after int64) ([]store.Event, error) {
	if m, ok := r.cfg.Store.(store.RecentEventReader); ok {
		if page, ok := m.RecentEvents(after, r.cfg.Batch); ok {
			return page, nil
		}
	}
	var page []store.Event
	err := r.cfg.Store.View(ctx, func(rd store.Reader) error {
		var err error
		page, err = rd.Events(ctx, store.EventQuery{After: after, Limit: r.cfg.Batch})
		return err
	})
	return page, err
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

// Advance moves c's durable cursor forward to seq. It reads the cursor in
// the same transaction and never moves it back: a consumer paused mid-batch
// (SIGSTOP, a long pause of the process) while another took its place and
// went further must not, when it wakes, send the cursor back to its own
// batch, which would hand out everything in between again.
func Advance(ctx context.Context, s store.Store, c Consumer, seq int64) error {
	err := s.Update(ctx, func(w store.Writer) error {
		if c.Check != nil {
			if err := c.Check(ctx, w); err != nil {
				return err
			}
		}
		cur, version, err := store.GetJSON[cursorDoc](ctx, w, KindCursor, c.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case cur.Seq >= seq:
			return nil
		}
		doc, _ := json.Marshal(cursorDoc{Seq: seq})
		_, err = w.Put(ctx, store.Record{Kind: KindCursor, ID: c.Name, Doc: doc, Version: version})
		return err
	})
	if err != nil {
		return fmt.Errorf("outbox: advance cursor %s to %d: %w", c.Name, seq, err)
	}
	return nil
}
