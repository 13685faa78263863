package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
)

// guard bounds how long a test waits for something that should happen at
// once; reaching it is a failure, never the expected path.
const guard = 10 * time.Second

func setup(t *testing.T) (*sqlite.DB, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, clk
}

func appendEvents(t *testing.T, s store.Store, ids ...string) {
	t.Helper()
	ctx := context.Background()
	err := s.Update(ctx, func(w store.Writer) error {
		for _, id := range ids {
			if err := w.Append(ctx, store.Event{ID: id, Type: "Tick", Resource: "r"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// collect runs fn (Follow or Consume) in the background and passes every
// event id it hands out to the returned channel.
func collect(t *testing.T, run func(ctx context.Context, h outbox.Handler) error) (<-chan string, func() error) {
	t.Helper()
	ids := make(chan string, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, func(_ context.Context, evs []store.Event) error {
			for _, e := range evs {
				ids <- e.ID
			}
			return nil
		})
	}()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			stopErr = <-done
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	return ids, stop
}

func expect(t *testing.T, ids <-chan string, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-ids:
			if got != w {
				t.Fatalf("got event %s, want %s", got, w)
			}
		case <-time.After(guard):
			t.Fatalf("event %s never arrived", w)
		}
	}
}

// otherProcess hides the store's local commit notifications, as a commit
// made by another replica looks to this one.
type otherProcess struct{ store.Store }

func TestFollow(t *testing.T) {
	t.Run("a follower gets what commits after it started at once, without the clock moving", func(t *testing.T) {
		db, clk := setup(t)
		appendEvents(t, db, "old")
		r := outbox.New(outbox.Config{Store: db, Clock: clk})
		ids, _ := collect(t, func(ctx context.Context, h outbox.Handler) error { return r.Follow(ctx, 0, h) })
		expect(t, ids, "old")
		appendEvents(t, db, "new-1", "new-2")
		expect(t, ids, "new-1", "new-2")
	})

	t.Run("commits it was not told about are found within one poll interval", func(t *testing.T) {
		db, clk := setup(t)
		r := outbox.New(outbox.Config{Store: otherProcess{db}, Clock: clk, Poll: 500 * time.Millisecond})
		armed := clk.Timers()
		ids, _ := collect(t, func(ctx context.Context, h outbox.Handler) error { return r.Follow(ctx, 0, h) })
		clk.WaitForTimers(armed + 1) // the follower waits for its poll
		appendEvents(t, db, "elsewhere")
		select {
		case id := <-ids:
			t.Fatalf("got %s before the poll interval passed", id)
		default:
		}
		clk.Advance(500 * time.Millisecond)
		expect(t, ids, "elsewhere")
	})

	t.Run("a wake-up from the bus ends the wait at once", func(t *testing.T) {
		db, clk := setup(t)
		var bus store.Signal
		r := outbox.New(outbox.Config{Store: otherProcess{db}, Clock: clk, Wake: bus.Wait})
		armed := clk.Timers()
		ids, _ := collect(t, func(ctx context.Context, h outbox.Handler) error { return r.Follow(ctx, 0, h) })
		clk.WaitForTimers(armed + 1)
		appendEvents(t, db, "via-bus")
		bus.Fire()
		expect(t, ids, "via-bus")
	})

	t.Run("batches are read in commit order across many commits", func(t *testing.T) {
		db, clk := setup(t)
		var want []string
		for i := range 30 {
			id := fmt.Sprintf("e%02d", i)
			want = append(want, id)
			appendEvents(t, db, id)
		}
		r := outbox.New(outbox.Config{Store: db, Clock: clk, Batch: 7})
		ids, _ := collect(t, func(ctx context.Context, h outbox.Handler) error { return r.Follow(ctx, 0, h) })
		expect(t, ids, want...)
	})
}

func TestConsume(t *testing.T) {
	t.Run("a consumer resumes from its durable cursor after a restart", func(t *testing.T) {
		db, clk := setup(t)
		appendEvents(t, db, "a", "b", "c")
		r := outbox.New(outbox.Config{Store: db, Clock: clk})
		ids, stop := collect(t, func(ctx context.Context, h outbox.Handler) error { return r.Consume(ctx, "webhooks/1", h) })
		expect(t, ids, "a", "b", "c")
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		appendEvents(t, db, "d")
		ids, _ = collect(t, func(ctx context.Context, h outbox.Handler) error { return r.Consume(ctx, "webhooks/1", h) })
		expect(t, ids, "d")
	})

	t.Run("a batch the handler refuses is not consumed", func(t *testing.T) {
		db, clk := setup(t)
		appendEvents(t, db, "a")
		r := outbox.New(outbox.Config{Store: db, Clock: clk})
		refused := errors.New("receiver down")
		err := r.Consume(context.Background(), "c", func(context.Context, []store.Event) error { return refused })
		if !errors.Is(err, refused) {
			t.Fatalf("Consume = %v, want the handler's error", err)
		}
		if seq, err := outbox.Cursor(context.Background(), db, "c"); err != nil || seq != 0 {
			t.Fatalf("cursor = %d, %v; want 0", seq, err)
		}
		ids, _ := collect(t, func(ctx context.Context, h outbox.Handler) error { return r.Consume(ctx, "c", h) })
		expect(t, ids, "a")
	})
}

// TestHandover plays a consumer paused inside a batch (SIGSTOP) while
// another replica takes its place: two Readers on one SQLite file.
func TestHandover(t *testing.T) {
	t.Run("a consumer that wakes after another went further leaves the cursor where the other put it", func(t *testing.T) {
		db, clk := setup(t)
		appendEvents(t, db, "1", "2", "3", "4")
		stale := outbox.New(outbox.Config{Store: db, Clock: clk, Batch: 2})
		paused, wake, next := make(chan struct{}), make(chan struct{}), make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			batches := 0
			done <- stale.Consume(ctx, "c", func(ctx context.Context, _ []store.Event) error {
				if batches++; batches == 1 {
					close(paused)
					<-wake
					return nil
				}
				close(next) // its first batch's cursor is saved by now
				<-ctx.Done()
				return ctx.Err()
			})
		}()
		<-paused
		other := outbox.New(outbox.Config{Store: db, Clock: clk})
		if err := other.Drain(context.Background(), "c", func(context.Context, []store.Event) error { return nil }); err != nil {
			t.Fatal(err)
		}
		close(wake)
		select {
		case <-next:
		case <-time.After(guard):
			t.Fatal("the woken consumer never finished its batch")
		}
		if seq, err := outbox.Cursor(context.Background(), db, "c"); err != nil || seq != 4 {
			t.Errorf("cursor = %d, %v; want 4: the woken consumer's batch ended at 2, behind the other's", seq, err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a consumer whose lease moved on cannot move the cursor, and stops", func(t *testing.T) {
		db, clk := setup(t)
		appendEvents(t, db, "1", "2", "3", "4")
		const ttl = 3 * time.Second
		holder := func(replica string) *lease.Manager {
			m := lease.NewManager(lease.Config{Store: db, Clock: clk, Replica: replica, TTL: ttl})
			m.Register("consumer", func(context.Context, lease.Lease) {})
			return m
		}
		a, b := holder("a"), holder("b")
		a.Tick(context.Background())
		b.Tick(context.Background()) // b sees a's lease, which it may take once it expires
		checked := func(l lease.Lease) outbox.Consumer {
			return outbox.Consumer{Name: "c", Check: func(ctx context.Context, w store.Writer) error {
				return lease.Check(ctx, w, l, clk.Now())
			}}
		}
		stale := checked(a.Held()[0])
		r := outbox.New(outbox.Config{Store: db, Clock: clk, Batch: 2})
		batches := 0
		err := r.ConsumeSettled(context.Background(), stale, func(context.Context, []store.Event) (int64, error) {
			if batches++; batches > 1 {
				return 0, errors.New("a second batch under a lost lease")
			}
			clk.Advance(2 * ttl) // a is paused mid-batch; b takes over and goes further
			b.Tick(context.Background())
			held := b.Held()
			if len(held) != 1 {
				t.Fatalf("b holds %v after a's lease expired", held)
			}
			if err := outbox.Advance(context.Background(), db, checked(held[0]), 4); err != nil {
				t.Fatal(err)
			}
			return 0, nil // a finishes its batch, events 1 and 2
		})
		if !errors.Is(err, lease.ErrLost) {
			t.Errorf("ConsumeSettled = %v, want lease.ErrLost", err)
		}
		if seq, err := outbox.Cursor(context.Background(), db, "c"); err != nil || seq != 4 {
			t.Errorf("cursor = %d, %v; want 4, where the lease's holder put it", seq, err)
		}
	})
}

func TestConsumeSettled(t *testing.T) {
	t.Run("a handler cut short mid-batch moves the cursor past what it settled", func(t *testing.T) {
		db, clk := setup(t)
		appendEvents(t, db, "a", "b", "c", "d")
		r := outbox.New(outbox.Config{Store: db, Clock: clk})
		stopped := errors.New("stopped at c")
		err := r.ConsumeSettled(context.Background(), outbox.Consumer{Name: "c"}, func(_ context.Context, evs []store.Event) (int64, error) {
			return evs[1].Seq, stopped
		})
		if !errors.Is(err, stopped) {
			t.Fatalf("ConsumeSettled = %v, want the handler's error", err)
		}
		ids, _ := collect(t, func(ctx context.Context, h outbox.Handler) error { return r.Consume(ctx, "c", h) })
		expect(t, ids, "c", "d")
	})
}

func TestDrain(t *testing.T) {
	db, clk := setup(t)
	appendEvents(t, db, "a", "b")
	r := outbox.New(outbox.Config{Store: db, Clock: clk, Batch: 1})
	var got []string
	handle := func(_ context.Context, evs []store.Event) error {
		for _, e := range evs {
			got = append(got, e.ID)
		}
		return nil
	}
	if err := r.Drain(context.Background(), "d", handle); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, db, "c")
	if err := r.Drain(context.Background(), "d", handle); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("drained %v, want [a b c]: each event once, across passes", got)
	}
}
