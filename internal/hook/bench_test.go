package hook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/hook"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/webhook/safehttp"
)

// fastHook answers every beforeTicket call with a rank, without checking
// the signature: the figure is Muster's side of the call.
func fastHook(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"allow":true}`)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// BenchmarkBeforeTicketCall is one beforeTicket call to a hook on
// loopback: signing, the HTTP exchange, strict decoding and checks. It
// reports the p50 and p99 of one call besides the mean.
// standalone is a hook service alone on a new SQLite store, allowed to call
// hooks on loopback, and an operator's context to register them with.
func standalone(tb testing.TB, cfg hook.Config) (*hook.Service, context.Context) {
	tb.Helper()
	ctx := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, Role: auth.RoleAdmin, AccessKeyID: "AKTEST"})
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(tb.TempDir(), "muster.db")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	cfg.Base, cfg.Destinations = service.Base{Store: db}, safehttp.Config{AllowPrivate: true}
	return hook.New(cfg), ctx
}

func BenchmarkBeforeTicketCall(b *testing.B) {
	svc, ctx := standalone(b, hook.Config{})
	if _, err := svc.Create(ctx, hook.CreateInput{URL: fastHook(b).URL, Point: hook.BeforeTicket, FailMode: hook.FailClosed}); err != nil {
		b.Fatal(err)
	}
	n := 3.0
	draft := func() *matchmaking.TicketDraft {
		return &matchmaking.TicketDraft{PlayerID: "p-1", ConfigurationName: "duel", Types: map[string]string{"rank": "number"},
			Players: []matchmaking.DraftPlayer{{PlayerID: "p-1", LatencyInMs: map[string]int32{"custom-a": 40},
				Attributes: map[string]gamelift.AttributeValue{"rank": {N: &n}}}}}
	}
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := svc.BeforeTicket(ctx, draft()); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// TestTicketThroughputFigures measures POST /v1/matchmaking/tickets
// through the real server's handler (in process, no network on the
// player's side), without and with a beforeTicket hook on loopback. Opt
// in: MUSTER_FIGURES=1 go test ./internal/hook -run Figures -v.
func TestTicketThroughputFigures(t *testing.T) {
	if os.Getenv("MUSTER_FIGURES") == "" {
		t.Skip("a measurement: MUSTER_FIGURES=1")
	}
	const players, workers = 6000, 32
	for _, withHook := range []bool{false, true} {
		e := newEnv(t)
		e.duel("duel")
		if withHook {
			e.register(`{"url":"` + fastHook(t).URL + `","point":"beforeTicket","failMode":"failClosed"}`)
		}
		h := e.Srv.Handler()
		tokens := make([]string, players)
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < players; i = next.Add(1) - 1 {
					tokens[i] = "Bearer " + signIn(t, h)
				}
			})
		}
		wg.Wait()
		lat := make([]time.Duration, players)
		next.Store(0)
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < players; i = next.Add(1) - 1 {
					req := httptest.NewRequest("POST", "/v1/matchmaking/tickets", strings.NewReader(`{"configurationName":"duel"}`))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", tokens[i])
					rec := httptest.NewRecorder()
					t0 := time.Now()
					h.ServeHTTP(rec, req)
					lat[i] = time.Since(t0)
					if rec.Code != http.StatusCreated {
						t.Errorf("ticket answered %d: %s", rec.Code, rec.Body)
						return
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		slices.Sort(lat)
		t.Logf("hook=%v: %d tickets in %v: %.0f tickets/s; latency p50 %v p99 %v", withHook, players, elapsed.Round(time.Millisecond),
			float64(players)/elapsed.Seconds(), lat[players/2].Round(time.Microsecond), lat[players*99/100].Round(time.Microsecond))
		e.Stop()
	}
}

func signIn(t *testing.T, h http.Handler) string {
	req := httptest.NewRequest("POST", "/v1/identity/anonymous", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Errorf("sign-in answered %d", rec.Code)
		return ""
	}
	body := rec.Body.String()
	_, rest, _ := strings.Cut(body, `"accessToken":"`)
	tok, _, _ := strings.Cut(rest, `"`)
	return tok
}
