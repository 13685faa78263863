package webhook_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/webhook"
	"github.com/musterhq/muster/internal/webhook/safehttp"
	"github.com/musterhq/muster/internal/webhook/sign"
)

var (
	arns     = gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}
	operator = auth.Principal{Kind: auth.Operator, Role: auth.RoleAdmin, AccessKeyID: "AKTEST"}
	epoch    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// env is a webhook service on a real SQLite file, a fake clock, and a real
// local receiver.
type env struct {
	t     *testing.T
	ctx   context.Context
	clock *clock.Fake
	path  string
	db    *sqlite.DB
	svc   *webhook.Service
	reg   *prometheus.Registry
	cfg   webhook.Config
	stop  func()
	// sleeps hears each wait between attempts: the time it waits for.
	sleeps chan time.Time
	rcv    *receiver
}

// newEnv starts a service; edit adjusts its Config before New.
func newEnv(t *testing.T, edit func(*webhook.Config)) *env {
	t.Helper()
	e := &env{t: t, ctx: auth.With(context.Background(), operator), clock: clock.NewFake(epoch),
		path: filepath.Join(t.TempDir(), "muster.db"), sleeps: make(chan time.Time, 100), rcv: newReceiver(t)}
	box, err := secret.NewBox(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = webhook.Config{Box: box, Destinations: safehttp.Config{AllowPrivate: true}, Poll: time.Second,
		MinBackoff: time.Second, MaxBackoff: 8 * time.Second, RetryFor: time.Minute, AttemptTimeout: 10 * time.Second, Batch: 16}
	if edit != nil {
		edit(&e.cfg)
	}
	e.start()
	t.Cleanup(func() { e.stop() })
	return e
}

// start opens the store and runs a service on it; stop undoes both.
func (e *env) start() {
	t := e.t
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: e.path, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.db, e.reg = db, prometheus.NewRegistry()
	cfg := e.cfg
	cfg.Base = service.Base{Store: db, Clock: e.clock, ARNs: arns, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	cfg.Registerer = e.reg
	e.svc = webhook.New(cfg)
	webhook.OnSleep(e.svc, func(until time.Time) { e.sleeps <- until })
	run, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.svc.Run(run) }()
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			db.Close()
		})
	}
}

// restart stops the service and starts a new one on the same file.
func (e *env) restart() {
	e.stop()
	e.start()
}

// subscribe creates an enabled subscription to the receiver.
func (e *env) subscribe(name string, edit func(*webhook.CreateInput)) *webhook.Created {
	e.t.Helper()
	in := webhook.CreateInput{Name: name, URL: e.rcv.srv.URL + "/hooks/" + name}
	if edit != nil {
		edit(&in)
	}
	sub, err := e.svc.Create(e.ctx, in)
	if err != nil {
		e.t.Fatalf("create subscription: %v", err)
	}
	return sub
}

// configARN is the ARN of a matchmaking configuration.
func configARN(name string) string {
	return arns.Build(gamelift.ResourceMatchmakingConfiguration, name)
}

// publish commits FlexMatch-shaped events about configuration config, one
// per ticket id, in one transaction, and returns them.
func (e *env) publish(config string, tickets ...string) []store.Event {
	e.t.Helper()
	var out []store.Event
	err := e.db.Update(context.Background(), func(w store.Writer) error {
		for _, tk := range tickets {
			detail := map[string]any{"type": "MatchmakingSearching", "tickets": []map[string]any{{"ticketId": tk, "players": []any{}}}}
			env := gamelift.NewEnvelope(arns, gamelift.DetailTypeMatchmaking, gamelift.EventTimeMillis(e.clock.Now()), configARN(config), detail)
			ev := store.Event{ID: env.ID, Time: e.clock.Now(), Type: "MatchmakingSearching", Resource: configARN(config), Doc: store.MustJSON(env)}
			if err := w.Append(context.Background(), ev); err != nil {
				return err
			}
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// delivery is one request the receiver got.
type delivery struct {
	path   string
	header http.Header
	body   []byte
	// at is the fake time when the request arrived.
	at time.Time
}

// receiver is a real local HTTP server whose answers the test scripts.
type receiver struct {
	t   *testing.T
	srv *httptest.Server
	got chan delivery
	mu  sync.Mutex
	// answer decides the response to a request (200 when nil); it may block.
	answer func(w http.ResponseWriter, d delivery)
	clock  func() time.Time
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, got: make(chan delivery, 200_000)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		d := delivery{path: req.URL.Path, header: req.Header.Clone(), body: body}
		if r.clock != nil {
			d.at = r.clock()
		}
		r.got <- d
		r.mu.Lock()
		answer := r.answer
		r.mu.Unlock()
		if answer != nil {
			answer(w, d)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// script sets how the receiver answers.
func (r *receiver) script(f func(w http.ResponseWriter, d delivery)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = f
}

// next returns the next request, failing the test when none comes within
// a generous real-time bound (a delivery that never happens).
func (r *receiver) next() delivery {
	r.t.Helper()
	return receive(r.t, r.got, "no delivery arrived")
}

// receive returns the next value on ch, failing the test with why when
// none comes within a generous real-time bound (a step that never happens).
func receive[T any](t *testing.T, ch <-chan T, why string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal(why)
		var zero T
		return zero
	}
}

// none checks that nothing more arrives while the workers run through
// what is committed (flush: they have handled every event when it returns).
func (r *receiver) none(flush func()) {
	r.t.Helper()
	flush()
	select {
	case d := <-r.got:
		r.t.Errorf("unexpected delivery %s of %s", d.header.Get(sign.HeaderID), d.path)
	default:
	}
}

// verify checks a delivery's signature with the secret at the fake time.
func verify(t *testing.T, secretText string, d delivery, now time.Time) error {
	t.Helper()
	v, err := sign.NewVerifier(secretText)
	if err != nil {
		t.Fatal(err)
	}
	return v.Verify(d.header, d.body, now)
}

// waitFor polls cond, for state another goroutine changes after an event
// the test already saw (a cursor saved, a record written).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func id(d delivery) string { return d.header.Get(sign.HeaderID) }

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// value reads a counter's or gauge's value.
func value(m prometheus.Metric) float64 {
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		panic(err)
	}
	if c := out.GetCounter(); c != nil {
		return c.GetValue()
	}
	return out.GetGauge().GetValue()
}

// caughtUp waits until a subscription's worker has handled every event
// committed so far (its cursor reached the outbox's end).
func (e *env) caughtUp(subID string) {
	e.t.Helper()
	var last int64
	err := e.db.View(context.Background(), func(r store.Reader) error {
		for {
			evs, err := r.Events(context.Background(), store.EventQuery{After: last, Limit: 1000})
			if err != nil || len(evs) == 0 {
				return err
			}
			last = evs[len(evs)-1].Seq
		}
	})
	if err != nil {
		e.t.Fatal(err)
	}
	waitFor(e.t, "the worker to reach the outbox's end", func() bool {
		c, err := outbox.Cursor(context.Background(), e.db, "webhook/"+subID)
		return err == nil && c >= last
	})
}

// redrives counts the redriven letters not yet done, of every subscription.
func (e *env) redrives() int {
	var n int
	_ = e.db.View(context.Background(), func(r store.Reader) error {
		items, err := r.Find(context.Background(), store.Query{Kind: webhook.KindRedrive, Prefix: true, NoDocs: true})
		n = len(items)
		return err
	})
	return n
}

// rawRecord is a subscription's stored document.
func (e *env) rawRecord(id string) string {
	var doc string
	err := e.db.View(context.Background(), func(r store.Reader) error {
		it, err := r.Get(context.Background(), webhook.KindSubscription, id)
		doc = string(it.Doc)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return doc
}
