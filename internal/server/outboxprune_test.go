package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/webhook"
	"github.com/musterhq/muster/internal/webhook/safehttp"
)

// Pruning deletes events older than the retention, oldest first, but not
// one an enabled webhook subscription has still to deliver: the real
// webhook service, which delivers nothing here, holds its cursor at its
// creation.
func TestOutboxPruningWaitsForTheSlowestSubscription(t *testing.T) {
	ctx := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, Role: auth.RoleAdmin, AccessKeyID: "AKTEST"})
	clk := clock.NewFake(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, err := secret.NewBox(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	hooks := webhook.New(webhook.Config{Base: service.Base{Store: db, Clock: clk, Logger: slog.New(slog.DiscardHandler)}, Box: box,
		Registerer: prometheus.NewRegistry(), Destinations: safehttp.Config{AllowPrivate: true}})
	p := &outboxPruner{store: db, retain: hooks.Retain, clock: clk, retention: DefaultOutboxRetention, log: slog.New(slog.DiscardHandler),
		pruned: prometheus.NewCounter(prometheus.CounterOpts{Name: "pruned"})}
	publish := func(names ...string) {
		t.Helper()
		for _, n := range names {
			if err := db.Update(ctx, func(w store.Writer) error {
				return w.Append(ctx, store.Event{Type: "MatchmakingSearching", Resource: n})
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	left := func() string {
		t.Helper()
		var evs []store.Event
		if err := db.View(ctx, func(r store.Reader) (err error) { evs, err = r.Events(ctx, store.EventQuery{}); return err }); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range evs {
			names = append(names, e.Resource)
		}
		return fmt.Sprint(names)
	}
	step := func(what, want string) {
		t.Helper()
		if _, err := p.prune(ctx); err != nil {
			t.Fatal(err)
		}
		if got := left(); got != want {
			t.Fatalf("%s: left %s, want %s", what, got, want)
		}
	}
	publish("e1", "e2")
	sub, err := hooks.Create(ctx, webhook.CreateInput{Name: "studio", URL: "http://127.0.0.1:9/hooks"})
	if err != nil {
		t.Fatal(err)
	}
	publish("e3", "e4")
	step("nothing is older than the retention", "[e1 e2 e3 e4]")
	clk.Advance(DefaultOutboxRetention + time.Minute)
	publish("e5")
	step("the subscription has delivered nothing since its creation", "[e3 e4 e5]")
	off := false
	if _, err := hooks.Update(ctx, sub.Subscription.ID, webhook.UpdateInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	step("a disabled subscription holds nothing back; the recent event stays", "[e5]")
}
