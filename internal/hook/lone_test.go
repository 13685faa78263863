package hook_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/hook"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/webhook/safehttp"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// lone is a hook service alone on a SQLite store, on a fake clock, behind
// reads a test can fail or hold, with its logs kept; ctx is an
// operator's.
type lone struct {
	t     testing.TB
	svc   *hook.Service
	ctx   context.Context
	db    *sqlite.DB
	reads *reads
	clk   *clock.Fake
	logs  *logs
}

// newLone builds the service from cfg (Destinations allow private
// addresses unless cfg says otherwise through another).
func newLone(t testing.TB, cfg hook.Config) *lone {
	t.Helper()
	ctx := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, Role: auth.RoleAdmin, AccessKeyID: "AKTEST"})
	clk := clock.NewFake(t0)
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l := &lone{t: t, ctx: ctx, db: db, reads: &reads{Store: db}, clk: clk, logs: &logs{}}
	cfg.Destinations.AllowPrivate = true
	l.svc = l.another(cfg)
	return l
}

// another is a second service on the same store, clock and logs: a
// restart, or another replica, with cfg.
func (l *lone) another(cfg hook.Config) *hook.Service {
	cfg.Base = service.Base{Store: l.reads, Clock: l.clk, Logger: slog.New(slog.NewTextHandler(l.logs, nil))}
	return hook.New(cfg)
}

// configuration writes a matchmaking configuration record, as far as
// hooks look at one: that it exists.
func (l *lone) configuration(name string) {
	l.t.Helper()
	err := l.db.Update(l.ctx, func(w store.Writer) error {
		_, err := w.Put(l.ctx, store.Record{Kind: matchmaking.KindConfig, ID: name, Doc: []byte(`{}`)})
		return err
	})
	if err != nil {
		l.t.Fatal(err)
	}
}

// create registers a hook; it must succeed.
func (l *lone) create(in hook.CreateInput) *hook.Created {
	l.t.Helper()
	h, err := l.svc.Create(l.ctx, in)
	if err != nil {
		l.t.Fatal(err)
	}
	return h
}

// reads is a store whose Views a test can fail, or hold until released.
type reads struct {
	store.Store

	// mu guards the rest.
	mu      sync.Mutex
	fail    error
	hold    chan struct{}
	entered chan struct{}
	n       int
}

func (r *reads) View(ctx context.Context, fn func(store.Reader) error) error {
	r.mu.Lock()
	r.n++
	fail, hold, entered := r.fail, r.hold, r.entered
	r.hold, r.entered = nil, nil
	r.mu.Unlock()
	if hold != nil {
		close(entered)
		<-hold
	}
	if fail != nil {
		return fail
	}
	return r.Store.View(ctx, fn)
}

// failWith makes every View fail with err (nil: none).
func (r *reads) failWith(err error) {
	r.mu.Lock()
	r.fail = err
	r.mu.Unlock()
}

// count is how many Views were made.
func (r *reads) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// holdNext makes the next View wait until release is called; entered is
// closed once it waits.
func (r *reads) holdNext(t testing.TB) (entered <-chan struct{}, release func()) {
	hold, in := make(chan struct{}), make(chan struct{})
	r.mu.Lock()
	r.hold, r.entered = hold, in
	r.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	return in, release
}

// logs keeps what a service logged.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines are the lines logged that hold every one of words.
func (l *logs) lines(words ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for line := range strings.Lines(l.buf.String()) {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// answering is an HTTP client that reaches no network: every call is
// counted and answered by answer, whatever the URL's host.
type answering struct {
	mu     sync.Mutex
	calls  []string
	answer func(r *http.Request) string
}

func (a *answering) client() *http.Client { return &http.Client{Transport: a} }

func (a *answering) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	a.mu.Lock()
	a.calls = append(a.calls, r.URL.String())
	a.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(a.answer(r))), Request: r}, nil
}

func (a *answering) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.calls)
}

// private is a destination policy that allows private addresses, and
// strict one that does not.
var (
	private = safehttp.Config{AllowPrivate: true}
	strict  = safehttp.Config{}
)
