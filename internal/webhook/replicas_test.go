package webhook_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/webhook"
)

func TestReplicas(t *testing.T) {
	t.Run("with leases each subscription is delivered by one replica, and by the other once it stops", func(t *testing.T) {
		// The env's own service registers with a manager that never ticks:
		// it holds no lease, so it only answers the API.
		e := newEnv(t, func(c *webhook.Config) { c.Leases = lease.NewManager(lease.Config{Replica: "api"}) })
		replica := func(name string) (*lease.Manager, func()) {
			m := lease.NewManager(lease.Config{Store: e.db, Clock: e.clock, Replica: name, TTL: 3 * time.Second})
			cfg := e.cfg
			cfg.Base = service.Base{Store: e.db, Clock: e.clock, ARNs: arns}
			cfg.Leases = m
			svc := webhook.New(cfg)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- svc.Run(ctx) }()
			return m, func() { cancel(); <-done }
		}
		ma, stopA := replica("a")
		mb, stopB := replica("b")
		defer stopB()
		one, two := e.subscribe("one", nil), e.subscribe("two", nil)
		held := func(m *lease.Manager) int {
			n := 0
			for _, l := range m.Held() {
				if strings.HasPrefix(l.Name, "webhook/") {
					n++
				}
			}
			return n
		}
		// Another process's subscriptions are seen within Poll (1 s).
		tick := func() {
			e.clock.Advance(time.Second)
			ma.Tick(context.Background())
			mb.Tick(context.Background())
		}
		waitFor(t, "each replica to hold one subscription", func() bool { tick(); return held(ma) == 1 && held(mb) == 1 })
		deliveries := func(n int) map[string]int {
			got := map[string]int{}
			for range n {
				d := e.rcv.next()
				got[d.path+" "+id(d)]++
			}
			return got
		}
		evs := e.publish("arena", "t1", "t2", "t3")
		got := deliveries(6)
		for _, ev := range evs {
			for _, sub := range []string{"one", "two"} {
				if got["/hooks/"+sub+" "+ev.ID] != 1 {
					t.Errorf("%s got %s %d times, want once", sub, ev.ID, got["/hooks/"+sub+" "+ev.ID])
				}
			}
		}
		e.rcv.none(func() { e.caughtUp(one.ID); e.caughtUp(two.ID) })

		stopA() // its leases are released, and its replica record expires within the TTL
		waitFor(t, "b to hold both", func() bool {
			e.clock.Advance(time.Second)
			mb.Tick(context.Background())
			return held(mb) == 2
		})
		evs = e.publish("arena", "t4")
		got = deliveries(2)
		if got["/hooks/one "+evs[0].ID] != 1 || got["/hooks/two "+evs[0].ID] != 1 {
			t.Errorf("after a stopped: %v", got)
		}
		e.rcv.none(func() { e.caughtUp(one.ID); e.caughtUp(two.ID) })
	})
}

func TestPausedReplica(t *testing.T) {
	t.Run("a replica paused mid-batch past its lease neither moves the cursor back nor delivers past its batch", func(t *testing.T) {
		e := newEnv(t, func(c *webhook.Config) {
			c.Leases = lease.NewManager(lease.Config{Replica: "api"}) // never ticks: delivers nothing
			c.Batch = 2
			c.AttemptTimeout = time.Hour // the pause outlasts the lease, not the attempt
		})
		release := holdFirstRequest(t, e, http.StatusOK) // a's first request: a is paused inside its batch
		lost := &heard{msg: "webhook: delivery lease lost", ch: make(chan struct{})}
		ma := pausableReplica(t, e, "a", slog.New(lost))
		mb := pausableReplica(t, e, "b", nil)
		sub := e.subscribe("one", nil)
		holds := func(m *lease.Manager) bool {
			e.clock.Advance(time.Second) // within Poll the replicas see the subscription
			m.Tick(context.Background())
			return len(m.Held()) == 1
		}
		waitFor(t, "a to hold the subscription", func() bool { return holds(ma) })
		evs := e.publish("arena", "t1", "t2", "t3", "t4")
		if d := e.rcv.next(); id(d) != evs[0].ID {
			t.Fatalf("a delivered %s first, want t1", id(d))
		}
		// a no longer ticks (SIGSTOP): its lease expires and b takes over.
		waitFor(t, "b to take the subscription over", func() bool { return holds(mb) })
		for _, want := range evs {
			if d := e.rcv.next(); id(d) != want.ID {
				t.Fatalf("b delivered %s, want %s", id(d), want.ID)
			}
		}
		e.caughtUp(sub.ID)
		release() // a wakes: its batch is t1 and t2
		if d := e.rcv.next(); id(d) != evs[1].ID {
			t.Fatalf("a delivered %s on waking, want t2, the rest of its batch", id(d))
		}
		receive(t, lost.ch, "a's worker never found its lease lost")
		if c, err := outbox.Cursor(context.Background(), e.db, "webhook/"+sub.ID); err != nil || c < evs[3].Seq {
			t.Errorf("cursor = %d, %v; want %d, where b left it", c, err, evs[3].Seq)
		}
		e.rcv.none(func() { e.caughtUp(sub.ID) })
		ev := e.publish("arena", "t5")[0]
		if d := e.rcv.next(); id(d) != ev.ID {
			t.Errorf("delivered %s, want t5", id(d))
		}
		e.rcv.none(func() { e.caughtUp(sub.ID) })
	})
}

func TestPausedReplicaWritesNothingUnderALostLease(t *testing.T) {
	// a's first attempt hangs until a has lost its lease, then fails; with
	// no time left to retry, a dead-letters the event. b has delivered it
	// meanwhile: a's dead letter and its stale attempt log must not land.
	e := newEnv(t, func(c *webhook.Config) {
		c.Leases = lease.NewManager(lease.Config{Replica: "api"}) // never ticks: delivers nothing
		c.AttemptTimeout = time.Hour                              // the pause outlasts the lease, not the attempt
		c.RetryFor = time.Millisecond                             // a first failure is a dead letter
	})
	release := holdFirstRequest(t, e, http.StatusInternalServerError)
	lost := &heard{msg: "webhook: delivery lease lost", ch: make(chan struct{})}
	ma := pausableReplica(t, e, "a", slog.New(lost))
	mb := pausableReplica(t, e, "b", nil)
	sub := e.subscribe("one", nil)
	holds := func(m *lease.Manager) bool {
		e.clock.Advance(time.Second)
		m.Tick(context.Background())
		return len(m.Held()) == 1
	}
	waitFor(t, "a to hold the subscription", func() bool { return holds(ma) })
	ev := e.publish("arena", "t1")[0]
	if d := e.rcv.next(); id(d) != ev.ID {
		t.Fatalf("a sent %s first, want t1", id(d))
	}
	waitFor(t, "b to take the subscription over", func() bool { return holds(mb) })
	if d := e.rcv.next(); id(d) != ev.ID {
		t.Fatalf("b sent %s, want t1", id(d))
	}
	e.caughtUp(sub.ID)
	release() // a wakes to a failed attempt and no time to retry
	letters := func() []webhook.DeadLetter {
		return must[*webhook.Page[webhook.DeadLetter]](t)(e.svc.DeadLetters(e.ctx, sub.ID, 10, "")).Items
	}
	waitFor(t, "a to find its lease lost, or to dead-letter the event", func() bool {
		select {
		case <-lost.ch:
			return true
		default:
			return len(letters()) > 0
		}
	})
	if l := letters(); len(l) != 0 {
		t.Errorf("%d dead letters (event %s, %s); want none: b delivered the event", len(l), l[0].EventID, l[0].LastError)
	}
	attempts := must[[]webhook.Attempt](t)(e.svc.Deliveries(e.ctx, sub.ID))
	if len(attempts) != 1 || attempts[0].Outcome != "delivered" {
		t.Errorf("saved attempts %+v; want b's one delivery", attempts)
	}
}

// holdFirstRequest makes the receiver hold the first delivery it gets
// until release is called, then answer it with status; the others are
// answered at once as usual.
func holdFirstRequest(t *testing.T, e *env, status int) (release func()) {
	hold := make(chan struct{})
	release = sync.OnceFunc(func() { close(hold) })
	t.Cleanup(release)
	var first atomic.Bool
	e.rcv.script(func(w http.ResponseWriter, d delivery) {
		if first.CompareAndSwap(false, true) {
			<-hold
			w.WriteHeader(status)
		}
	})
	return release
}

// pausableReplica runs a delivering replica on e's store and clock, with
// a lease manager of its own that ticks only when the test says: a replica
// that stops ticking is one paused (SIGSTOP) past its lease.
func pausableReplica(t *testing.T, e *env, name string, log *slog.Logger) *lease.Manager {
	m := lease.NewManager(lease.Config{Store: e.db, Clock: e.clock, Replica: name, TTL: 3 * time.Second})
	cfg := e.cfg
	cfg.Base = service.Base{Store: e.db, Clock: e.clock, ARNs: arns, Logger: log}
	cfg.Leases = m
	svc := webhook.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return m
}

// heard is a log handler that closes ch when a record with message msg is
// logged.
type heard struct {
	msg  string
	ch   chan struct{}
	once sync.Once
}

func (h *heard) Enabled(context.Context, slog.Level) bool { return true }

func (h *heard) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.ch) })
	}
	return nil
}

func (h *heard) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *heard) WithGroup(string) slog.Handler      { return h }
