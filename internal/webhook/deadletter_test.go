package webhook_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/webhook"
	"github.com/musterhq/muster/internal/webhook/sign"
)

func TestDeadLetters(t *testing.T) {
	t.Run("an event failing past RetryFor becomes a dead letter, the next is delivered, and a redrive delivers it", func(t *testing.T) {
		e := newEnv(t, nil) // RetryFor 1 min, backoff 1 to 8 s
		var down atomic.Bool
		down.Store(true)
		e.rcv.script(func(w http.ResponseWriter, d delivery) {
			if down.Load() && strings.Contains(string(d.body), `"ticketId":"t1"`) {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		})
		sub := e.subscribe("studio", nil)
		evs := e.publish("arena", "t1", "t2")
		attempts := 0
	retries:
		for {
			if d := e.rcv.next(); id(d) == evs[1].ID {
				break
			}
			attempts++
			select {
			case until := <-e.sleeps:
				e.clock.Set(until)
			case d := <-e.rcv.got: // the first event is dead: the worker moved on
				if id(d) != evs[1].ID {
					t.Fatalf("got %s, want the second event", id(d))
				}
				break retries
			}
		}
		if attempts < 5 {
			t.Errorf("%d attempts before the dead letter, want the retries of a minute at 1 to 8 s", attempts)
		}
		e.caughtUp(sub.ID)
		page := must[*webhook.Page[webhook.DeadLetter]](t)(e.svc.DeadLetters(e.ctx, sub.ID, 10, ""))
		if len(page.Items) != 1 {
			t.Fatalf("dead letters = %+v, want one", page.Items)
		}
		dl := page.Items[0]
		if dl.EventID != evs[0].ID || dl.Attempts != attempts || dl.LastStatus != 503 || !bytes.Equal(dl.Event, evs[0].Doc) {
			t.Errorf("dead letter = %+v, want event %s after %d attempts, last 503", dl, evs[0].ID, attempts)
		}
		if got := value(e.svc.Metrics().DeadLetters.WithLabelValues(sub.ID)); got != 1 {
			t.Errorf("dead letters metric = %v", got)
		}

		down.Store(false)
		red := must[*webhook.Redriven](t)(e.svc.Redrive(e.ctx, sub.ID, webhook.RedriveInput{}))
		if red.Redriven != 1 {
			t.Errorf("redriven = %d", red.Redriven)
		}
		d := e.rcv.next()
		if id(d) != evs[0].ID || !bytes.Equal(d.body, evs[0].Doc) {
			t.Errorf("redrive delivered %s", id(d))
		}
		if err := verify(t, sub.Secret, d, e.clock.Now()); err != nil {
			t.Error(err)
		}
		waitFor(t, "the redriven letter to be done", func() bool {
			p, err := e.svc.DeadLetters(e.ctx, sub.ID, 10, "")
			return err == nil && len(p.Items) == 0 && e.redrives() == 0
		})
	})
	t.Run("a redrive of chosen event ids leaves the others", func(t *testing.T) {
		e := newEnv(t, func(c *webhook.Config) { c.RetryFor = time.Second / 2 }) // one attempt each
		e.rcv.script(func(w http.ResponseWriter, d delivery) { w.WriteHeader(http.StatusBadGateway) })
		sub := e.subscribe("studio", nil)
		evs := e.publish("arena", "t1", "t2", "t3")
		for range evs {
			e.rcv.next()
		}
		e.caughtUp(sub.ID)
		waitFor(t, "three dead letters", func() bool {
			p, err := e.svc.DeadLetters(e.ctx, sub.ID, 2, "")
			return err == nil && len(p.Items) == 2 && p.NextToken != ""
		})
		e.rcv.script(nil)
		red := must[*webhook.Redriven](t)(e.svc.Redrive(e.ctx, sub.ID, webhook.RedriveInput{EventIDs: []string{evs[1].ID}}))
		if d := e.rcv.next(); red.Redriven != 1 || id(d) != evs[1].ID {
			t.Errorf("redriven %d, delivered %s; want %s", red.Redriven, id(d), evs[1].ID)
		}
		p := must[*webhook.Page[webhook.DeadLetter]](t)(e.svc.DeadLetters(e.ctx, sub.ID, 10, ""))
		if len(p.Items) != 2 || p.Items[0].EventID != evs[0].ID || p.Items[1].EventID != evs[2].ID {
			t.Errorf("left = %+v", p.Items)
		}
	})
}

func TestGone(t *testing.T) {
	t.Run("410 Gone disables the subscription; enabling it again delivers the event", func(t *testing.T) {
		e := newEnv(t, nil)
		e.rcv.script(func(w http.ResponseWriter, d delivery) { w.WriteHeader(http.StatusGone) })
		sub := e.subscribe("studio", nil)
		ev := e.publish("arena", "t1")[0]
		e.rcv.next()
		waitFor(t, "the subscription to be disabled", func() bool {
			s, err := e.svc.Get(e.ctx, sub.ID)
			return err == nil && !s.Enabled
		})
		s := must[*webhook.Subscription](t)(e.svc.Get(e.ctx, sub.ID))
		if !strings.Contains(s.DisabledReason, "410") {
			t.Errorf("reason %q", s.DisabledReason)
		}
		e.publish("arena", "t2")
		e.rcv.none(func() { e.clock.Advance(2 * time.Second) }) // two polls: nothing runs for it
		e.rcv.script(nil)
		on := true
		s = must[*webhook.Subscription](t)(e.svc.Update(e.ctx, sub.ID, webhook.UpdateInput{Enabled: &on}))
		if !s.Enabled || s.DisabledReason != "" {
			t.Errorf("after enabling: %+v", s)
		}
		if d := e.rcv.next(); id(d) != ev.ID {
			t.Errorf("first delivery after enabling = %s, want the event answered 410 (%s)", id(d), ev.ID)
		}
		e.rcv.next()
		e.caughtUp(sub.ID)
		a := must[[]webhook.Attempt](t)(e.svc.Deliveries(e.ctx, sub.ID))
		if len(a) != 3 || a[2].Outcome != "disabled" || a[2].Status != 410 || a[0].Outcome != "delivered" {
			t.Errorf("attempts = %+v", a)
		}
	})
}

func TestCutShort(t *testing.T) {
	t.Run("after 410 Gone mid-batch, enabling again resumes at the event answered 410, not at the batch's start", func(t *testing.T) {
		e := newEnv(t, nil) // batches of 16: the three events are one batch
		e.rcv.script(func(w http.ResponseWriter, d delivery) {
			if strings.Contains(string(d.body), `"ticketId":"t2"`) {
				w.WriteHeader(http.StatusGone)
			}
		})
		sub := e.subscribe("studio", nil)
		evs := e.publish("arena", "t1", "t2", "t3")
		for _, want := range evs[:2] {
			if d := e.rcv.next(); id(d) != want.ID {
				t.Fatalf("delivered %s, want %s", id(d), want.ID)
			}
		}
		waitFor(t, "the subscription to be disabled", func() bool {
			s, err := e.svc.Get(e.ctx, sub.ID)
			return err == nil && !s.Enabled
		})
		e.rcv.script(nil)
		on := true
		must[*webhook.Subscription](t)(e.svc.Update(e.ctx, sub.ID, webhook.UpdateInput{Enabled: &on}))
		for _, want := range evs[1:] {
			if d := e.rcv.next(); id(d) != want.ID {
				t.Fatalf("after enabling: delivered %s, want %s (t1 was delivered before the 410)", id(d), want.ID)
			}
		}
		e.rcv.none(func() { e.caughtUp(sub.ID) })
	})
	t.Run("an event dead-lettered mid-batch is not retried after a restart", func(t *testing.T) {
		e := newEnv(t, nil) // RetryFor 1 min, backoff 1 to 8 s
		hold := make(chan struct{})
		e.rcv.script(func(w http.ResponseWriter, d delivery) {
			switch {
			case strings.Contains(string(d.body), `"ticketId":"t1"`):
				w.WriteHeader(http.StatusServiceUnavailable)
			case strings.Contains(string(d.body), `"ticketId":"t2"`):
				<-hold // the receiver is mid-request when the service stops
			}
		})
		release := sync.OnceFunc(func() { close(hold) })
		t.Cleanup(release) // before the receiver closes, should the test fail
		sub := e.subscribe("studio", nil)
		evs := e.publish("arena", "t1", "t2")
	retries:
		for {
			select {
			case until := <-e.sleeps:
				e.clock.Set(until)
			case d := <-e.rcv.got:
				if id(d) == evs[1].ID { // t1 is a dead letter: the worker moved on
					break retries
				}
			case <-time.After(10 * time.Second):
				t.Fatal("t1 never became a dead letter")
			}
		}
		if p := must[*webhook.Page[webhook.DeadLetter]](t)(e.svc.DeadLetters(e.ctx, sub.ID, 10, "")); len(p.Items) != 1 {
			t.Fatalf("dead letters = %+v, want t1's", p.Items)
		}
		e.stop()
		release()
		e.restart()
		if d := e.rcv.next(); id(d) != evs[1].ID {
			t.Errorf("first delivery after the restart = %s, want t2 (%s): t1 is a dead letter already", id(d), evs[1].ID)
		}
		e.rcv.none(func() { e.caughtUp(sub.ID) })
	})
}

func TestSecretRotation(t *testing.T) {
	t.Run("after a rotation both secrets sign until the overlap ends, then only the new one", func(t *testing.T) {
		e := newEnv(t, func(c *webhook.Config) { c.RotationOverlap = time.Hour })
		sub := e.subscribe("studio", nil)
		rot := must[*webhook.Created](t)(e.svc.RotateSecret(e.ctx, sub.ID))
		if rot.Secret == sub.Secret || !strings.HasPrefix(rot.Secret, "whsec_") {
			t.Fatalf("rotated secret %q", rot.Secret)
		}
		e.publish("arena", "t1")
		d := e.rcv.next()
		if n := len(strings.Fields(d.header.Get(sign.HeaderSignature))); n != 2 {
			t.Errorf("%d signatures during the overlap, want 2", n)
		}
		for _, s := range []string{sub.Secret, rot.Secret} {
			if err := verify(t, s, d, e.clock.Now()); err != nil {
				t.Errorf("during the overlap: %v", err)
			}
		}
		e.caughtUp(sub.ID)
		e.clock.Advance(time.Hour)
		e.publish("arena", "t2")
		d = e.rcv.next()
		if err := verify(t, rot.Secret, d, e.clock.Now()); err != nil {
			t.Errorf("new secret after the overlap: %v", err)
		}
		if err := verify(t, sub.Secret, d, e.clock.Now()); err == nil {
			t.Error("the old secret still verifies after the overlap")
		}
	})
	t.Run("the secret is sealed at rest and never shown again", func(t *testing.T) {
		e := newEnv(t, nil)
		sub := e.subscribe("studio", nil)
		raw := e.rawRecord(sub.ID)
		key := strings.TrimPrefix(sub.Secret, "whsec_")
		if strings.Contains(raw, key) || !strings.Contains(raw, `"sealed"`) {
			t.Errorf("stored record %s holds the secret in the clear", raw)
		}
		got := must[*webhook.Subscription](t)(e.svc.Get(e.ctx, sub.ID))
		if got.ID != sub.ID {
			t.Errorf("get = %+v", got)
		}
		if _, err := e.svc.RotateSecret(e.ctx, "sub-missing"); !fault.Is(err, fault.NotFound) {
			t.Errorf("rotating a missing subscription: %v", err)
		}
	})
}
