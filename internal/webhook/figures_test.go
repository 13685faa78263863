package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/webhook"
	"github.com/musterhq/muster/internal/webhook/safehttp"
)

// TestFiguresDeliveryBacklog measures deliveries per second draining a
// backlog of 100,000 FlexMatch events over 1,000 tickets to a local
// receiver, on the real clock (MUSTER_FIGURES=1; a figure, not an
// assertion).
func TestFiguresDeliveryBacklog(t *testing.T) {
	if os.Getenv("MUSTER_FIGURES") != "1" {
		t.Skip("set MUSTER_FIGURES=1 to measure")
	}
	const events, tickets = 100_000, 1_000
	var got atomic.Int64
	done := make(chan struct{})
	db, svc, sub, run := figureRig(t, func(w http.ResponseWriter, r *http.Request) {
		if got.Add(1) == events {
			close(done)
		}
	})
	commitBacklog(t, db, events, tickets)
	start := time.Now()
	stop := run()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		t.Fatalf("%d of %d delivered in 5 minutes", got.Load(), events)
	}
	elapsed := time.Since(start)
	stop()
	if a, err := svc.Deliveries(auth.With(context.Background(), operator), sub.ID); err != nil || len(a) == 0 || a[0].Outcome != "delivered" {
		t.Errorf("recent attempts %v, %v: want deliveries", len(a), err)
	}
	t.Logf("FIGURE webhook backlog: %d events over %d tickets delivered in %v = %.0f deliveries/s (one subscription, in order, one at a time)",
		events, tickets, elapsed.Round(time.Millisecond), float64(events)/elapsed.Seconds())
}

// figureRig is a service on the real clock and a real store, with one
// subscription to a local receiver that answers with handler; run starts
// delivery and returns the function that stops it.
func figureRig(t *testing.T, handler http.HandlerFunc) (db store.Store, svc *webhook.Service, sub *webhook.Created, run func() (stop func())) {
	t.Helper()
	ctx := auth.With(context.Background(), operator)
	sdb, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sdb.Close() })
	rcv := httptest.NewServer(handler)
	t.Cleanup(rcv.Close)
	svc = webhook.New(webhook.Config{Base: service.Base{Store: sdb, ARNs: arns}, Destinations: safehttp.Config{AllowPrivate: true}})
	if sub, err = svc.Create(ctx, webhook.CreateInput{Name: "figures", URL: rcv.URL}); err != nil {
		t.Fatal(err)
	}
	return sdb, svc, sub, func() func() {
		runCtx, cancel := context.WithCancel(ctx)
		stopped := make(chan error, 1)
		go func() { stopped <- svc.Run(runCtx) }()
		return func() { cancel(); <-stopped }
	}
}

// commitBacklog commits n events over the given number of tickets, a
// thousand per transaction.
func commitBacklog(t *testing.T, db store.Store, n, tickets int) {
	t.Helper()
	for i := 0; i < n; i += 1000 {
		commitEvents(t, db, min(1000, n-i), func(j int) string { return fmt.Sprintf("t-%d", (i+j)%tickets) })
	}
}

// TestFiguresDeliveryLag measures the time from an event's commit to its
// arrival at a local receiver while events are committed at 2,000/s for
// 10 s, 20 every 10 ms (MUSTER_FIGURES=1; a figure, not an assertion).
func TestFiguresDeliveryLag(t *testing.T) {
	if os.Getenv("MUSTER_FIGURES") != "1" {
		t.Skip("set MUSTER_FIGURES=1 to measure")
	}
	const perTick, ticks = 20, 1000
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	all := make(chan struct{})
	db, _, _, run := figureRig(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if _, seen := arrived[r.Header.Get("webhook-id")]; !seen {
			arrived[r.Header.Get("webhook-id")] = time.Now()
			if len(arrived) == perTick*ticks {
				close(all)
			}
		}
	})
	stop := run()
	committed := map[string]time.Time{}
	tick := time.NewTicker(10 * time.Millisecond)
	for i := range ticks {
		<-tick.C
		at := time.Now()
		for _, id := range commitEvents(t, db, perTick, func(j int) string { return fmt.Sprintf("t-%d-%d", i, j) }) {
			committed[id] = at
		}
	}
	tick.Stop()
	select {
	case <-all:
	case <-time.After(time.Minute):
		t.Fatalf("%d of %d delivered", len(arrived), perTick*ticks)
	}
	stop()
	var lags []time.Duration
	for id, at := range committed {
		lags = append(lags, arrived[id].Sub(at))
	}
	slices.Sort(lags)
	q := func(p float64) time.Duration { return lags[int(p*float64(len(lags)-1))].Round(10 * time.Microsecond) }
	t.Logf("FIGURE webhook commit-to-delivery at 2,000 events/s: p50 %v p99 %v max %v over %d events", q(0.5), q(0.99), q(1), len(lags))
}

// commitEvents commits n FlexMatch events in one transaction, the jth about
// ticket(j), and returns their ids.
func commitEvents(t *testing.T, db store.Store, n int, ticket func(j int) string) []string {
	var ids []string
	now := time.Now()
	err := db.Update(context.Background(), func(w store.Writer) error {
		for j := range n {
			detail := map[string]any{"type": "MatchmakingSearching", "tickets": []map[string]any{{"ticketId": ticket(j), "players": []any{}}}}
			env := gamelift.NewEnvelope(arns, gamelift.DetailTypeMatchmaking, gamelift.EventTimeMillis(now), configARN("arena"), detail)
			ids = append(ids, env.ID)
			if err := w.Append(context.Background(), store.Event{ID: env.ID, Time: now, Type: "MatchmakingSearching", Resource: configARN("arena"), Doc: store.MustJSON(env)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
