package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/webhook"
	"github.com/musterhq/muster/internal/webhook/sign"
)

func TestDelivery(t *testing.T) {
	t.Run("each event after the subscription's creation is POSTed as its document, signed, in order", func(t *testing.T) {
		e := newEnv(t, nil)
		e.publish("early", "t0") // before the subscription: not delivered
		sub := e.subscribe("studio", nil)
		evs := e.publish("arena", "t1", "t1", "t2", "t1")
		for _, want := range evs {
			d := e.rcv.next()
			if id(d) != want.ID || !bytes.Equal(d.body, want.Doc) {
				t.Fatalf("got %s %s, want %s %s", id(d), d.body, want.ID, want.Doc)
			}
			if d.header.Get("Content-Type") != "application/json" || d.path != "/hooks/studio" {
				t.Errorf("content type %q, path %q", d.header.Get("Content-Type"), d.path)
			}
			if err := verify(t, sub.Secret, d, e.clock.Now()); err != nil {
				t.Errorf("signature: %v", err)
			}
		}
		e.rcv.none(func() { e.caughtUp(sub.ID) })
		if got := value(e.svc.Metrics().Successes.WithLabelValues(sub.ID)); got != 4 {
			t.Errorf("successes metric = %v, want 4", got)
		}
	})
	t.Run("a subscription made after a long outbox with gaps starts after its end", func(t *testing.T) {
		e := newEnv(t, nil)
		tickets := make([]string, 1000)
		for i := range tickets {
			tickets[i] = "t"
		}
		e.publish("arena", tickets...)
		rolledBack := errors.New("rolled back")
		err := e.db.Update(context.Background(), func(w store.Writer) error {
			if err := w.Append(context.Background(), store.Event{Type: "X", Resource: "r", Doc: []byte(`{}`)}); err != nil {
				return err
			}
			return rolledBack
		})
		if !errors.Is(err, rolledBack) {
			t.Fatal(err)
		}
		e.publish("arena", "t", "t", "t")
		sub := e.subscribe("late", nil)
		ev := e.publish("arena", "after")[0]
		if d := e.rcv.next(); id(d) != ev.ID {
			t.Errorf("first delivery %s, want the event after the subscription", id(d))
		}
		e.rcv.none(func() { e.caughtUp(sub.ID) })
	})
	t.Run("the event-type filter and Muster's internal events leave events out", func(t *testing.T) {
		e := newEnv(t, nil)
		sub := e.subscribe("studio", func(in *webhook.CreateInput) { in.EventTypes = []string{"MatchmakingSucceeded"} })
		all := e.subscribe("all", nil)
		e.publish("arena", "t1")
		err := e.db.Update(context.Background(), func(w store.Writer) error {
			if err := w.Append(context.Background(), store.Event{Type: "OperatorKeyCreated", Resource: "AK", Doc: []byte(`{"accessKeyId":"AK"}`)}); err != nil {
				return err
			}
			return w.Append(context.Background(), store.Event{ID: "ok", Type: "MatchmakingSucceeded", Resource: configARN("arena"),
				Doc: []byte(`{"version":"0","id":"ok","source":"aws.gamelift","resources":["` + configARN("arena") + `"],"detail":{}}`)})
		})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for range 3 {
			d := e.rcv.next()
			got[d.path] = append(got[d.path], id(d))
		}
		if len(got["/hooks/studio"]) != 1 || got["/hooks/studio"][0] != "ok" || len(got["/hooks/all"]) != 2 {
			t.Errorf("deliveries = %v", got)
		}
		e.rcv.none(func() { e.caughtUp(sub.ID); e.caughtUp(all.ID) })
	})
}

func TestFleetEvents(t *testing.T) {
	t.Run("a fleet event goes, as DescribeFleetEvents shows it, to a subscription filtering on its fleet's ARN", func(t *testing.T) {
		e := newEnv(t, nil)
		fleetARN := arns.Build(gamelift.ResourceFleet, "fleet-1")
		mine := e.subscribe("fleet", func(in *webhook.CreateInput) { in.Resources = []string{fleetARN} })
		other := e.subscribe("other", func(in *webhook.CreateInput) { in.Resources = []string{arns.Build(gamelift.ResourceFleet, "fleet-2")} })
		doc := store.MustJSON(gamelift.Event{EventId: "ev-1", ResourceId: "fleet-1", EventCode: "FLEET_STATE_ACTIVE", Message: "active"})
		err := e.db.Update(context.Background(), func(w store.Writer) error {
			return w.Append(context.Background(), store.Event{ID: "ev-1", Type: "FLEET_STATE_ACTIVE", Resource: "fleet-1", Doc: doc})
		})
		if err != nil {
			t.Fatal(err)
		}
		if d := e.rcv.next(); d.path != "/hooks/fleet" || id(d) != "ev-1" || !bytes.Equal(d.body, doc) {
			t.Errorf("delivered %s to %s: %s", id(d), d.path, d.body)
		}
		e.rcv.none(func() { e.caughtUp(mine.ID); e.caughtUp(other.ID) })
	})
}

func TestRetries(t *testing.T) {
	t.Run("failures, a time-out and 429 are retried, signed afresh, until the receiver recovers", func(t *testing.T) {
		e := newEnv(t, func(c *webhook.Config) { c.RetryFor = time.Hour })
		e.rcv.clock = e.clock.Now
		release := make(chan struct{})
		var n atomic.Int32
		e.rcv.script(func(w http.ResponseWriter, d delivery) {
			switch n.Add(1) {
			case 1:
				w.WriteHeader(http.StatusInternalServerError)
			case 2: // the connection dies without an answer
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
			case 3: // no answer until the attempt times out
				<-release
			case 4:
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(http.StatusTooManyRequests)
			}
		})
		sub := e.subscribe("studio", nil)
		ev := e.publish("arena", "t1")[0]
		var stamps []string
		// 1: 500, then a backoff of 0.5 to 1 s (MinBackoff 1 s).
		d := e.rcv.next()
		stamps = append(stamps, d.header.Get(sign.HeaderTimestamp))
		e.sleepInside(time.Second/2, time.Second)
		// 2: connection closed, backoff 1 to 2 s.
		d = e.rcv.next()
		stamps = append(stamps, d.header.Get(sign.HeaderTimestamp))
		e.sleepInside(time.Second, 2*time.Second)
		// 3: no answer: the attempt's deadline on the clock ends it.
		d = e.rcv.next()
		stamps = append(stamps, d.header.Get(sign.HeaderTimestamp))
		e.clock.Advance(10 * time.Second)
		close(release)
		e.sleepInside(2*time.Second, 4*time.Second)
		// 4: 429 with Retry-After: 120 s exactly.
		d = e.rcv.next()
		stamps = append(stamps, d.header.Get(sign.HeaderTimestamp))
		at := e.clock.Now()
		if until := e.sleep(); !until.Equal(at.Add(120 * time.Second)) {
			t.Errorf("after 429 the worker waits until %v, want Retry-After 120 s after %v", until, at)
		}
		e.clock.Advance(120 * time.Second)
		// 5: delivered.
		d = e.rcv.next()
		stamps = append(stamps, d.header.Get(sign.HeaderTimestamp))
		if id(d) != ev.ID || !bytes.Equal(d.body, ev.Doc) {
			t.Errorf("the retry carries %s, want the same id and body", id(d))
		}
		if err := verify(t, sub.Secret, d, e.clock.Now()); err != nil {
			t.Errorf("signature of the last attempt: %v", err)
		}
		if stamps[0] == stamps[4] {
			t.Errorf("timestamps %v: a retry must be signed at its own time", stamps)
		}
		e.caughtUp(sub.ID)
		attempts := must[[]webhook.Attempt](t)(e.svc.Deliveries(e.ctx, sub.ID))
		var kinds []string
		for _, a := range attempts {
			kinds = append(kinds, a.Outcome+":"+a.Failure)
		}
		want := "delivered: retrying:status_429 retrying:timeout retrying:connection retrying:status_5xx"
		if strings.Join(kinds, " ") != want {
			t.Errorf("attempts (newest first) = %v, want %s", kinds, want)
		}
		m := e.svc.Metrics()
		for kind, n := range map[string]float64{"status_5xx": 1, "connection": 1, "timeout": 1, "status_429": 1} {
			if got := value(m.Failures.WithLabelValues(sub.ID, kind)); got != n {
				t.Errorf("failures{%s} = %v, want %v", kind, got, n)
			}
		}
		if got := value(m.Attempts.WithLabelValues(sub.ID)); got != 5 {
			t.Errorf("attempts metric = %v, want 5", got)
		}
	})
}

func TestUpdateMidRetry(t *testing.T) {
	t.Run("a URL changed while an event is being retried applies to its next attempt", func(t *testing.T) {
		e := newEnv(t, nil)
		e.rcv.script(func(w http.ResponseWriter, d delivery) {
			if d.path == "/hooks/old" {
				w.WriteHeader(http.StatusNotFound)
			}
		})
		sub := e.subscribe("studio", func(in *webhook.CreateInput) { in.URL = e.rcv.srv.URL + "/hooks/old" })
		ev := e.publish("arena", "t1")[0]
		if d := e.rcv.next(); d.path != "/hooks/old" {
			t.Fatalf("first attempt to %s", d.path)
		}
		until := e.sleep()
		url := e.rcv.srv.URL + "/hooks/new"
		must[*webhook.Subscription](t)(e.svc.Update(e.ctx, sub.ID, webhook.UpdateInput{URL: &url}))
		e.clock.Set(until)
		if d := e.rcv.next(); d.path != "/hooks/new" || id(d) != ev.ID {
			t.Errorf("retry of %s went to %s", id(d), d.path)
		}
	})
}

// sleepInside checks that the worker waits between lo and hi from now,
// then moves the clock there.
func (e *env) sleepInside(lo, hi time.Duration) {
	e.t.Helper()
	now := e.clock.Now()
	until := e.sleep()
	if d := until.Sub(now); d < lo || d > hi {
		e.t.Errorf("backoff %v, want %v to %v", d, lo, hi)
	}
	e.clock.Set(until)
}

// sleep returns when the worker waits next, and until when.
func (e *env) sleep() time.Time {
	e.t.Helper()
	return receive(e.t, e.sleeps, "the worker did not wait for a retry")
}
