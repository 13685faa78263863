package webhook_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/lease"
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
