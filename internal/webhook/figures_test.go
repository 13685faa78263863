package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	ctx := auth.With(context.Background(), operator)
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got atomic.Int64
	done := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got.Add(1) == events {
			close(done)
		}
	}))
	defer rcv.Close()
	svc := webhook.New(webhook.Config{Base: service.Base{Store: db, ARNs: arns}, Destinations: safehttp.Config{AllowPrivate: true}})
	sub, err := svc.Create(ctx, webhook.CreateInput{Name: "bench", URL: rcv.URL})
	if err != nil {
		t.Fatal(err)
	}
	commitBacklog(t, db, events, tickets)
	run, cancel := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	start := time.Now()
	go func() { stopped <- svc.Run(run) }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		t.Fatalf("%d of %d delivered in 5 minutes", got.Load(), events)
	}
	elapsed := time.Since(start)
	cancel()
	<-stopped
	if a, err := svc.Deliveries(ctx, sub.ID); err != nil || len(a) == 0 || a[0].Outcome != "delivered" {
		t.Errorf("recent attempts %v, %v: want deliveries", len(a), err)
	}
	t.Logf("FIGURE webhook backlog: %d events over %d tickets delivered in %v = %.0f deliveries/s (one subscription, in order, one at a time)",
		events, tickets, elapsed.Round(time.Millisecond), float64(events)/elapsed.Seconds())
}

// commitBacklog commits n matchmaking events over the given number of
// tickets, a thousand per transaction.
func commitBacklog(t *testing.T, db store.Store, n, tickets int) {
	t.Helper()
	now := time.Now()
	for i := 0; i < n; i += 1000 {
		err := db.Update(context.Background(), func(w store.Writer) error {
			for j := i; j < min(i+1000, n); j++ {
				detail := map[string]any{"type": "MatchmakingSearching", "tickets": []map[string]any{{"ticketId": fmt.Sprintf("t-%d", j%tickets), "players": []any{}}}}
				env := gamelift.NewEnvelope(arns, gamelift.DetailTypeMatchmaking, gamelift.EventTimeMillis(now), configARN("arena"), detail)
				if err := w.Append(context.Background(), store.Event{ID: env.ID, Time: now, Type: "MatchmakingSearching", Resource: configARN("arena"), Doc: store.MustJSON(env)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
