package matchmaking_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store/postgres"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
)

// apartRules are duelRules without the expansion: they never match two
// players whose skills are 100 apart.
const apartRules = duelTeams + "\n}"

// TestFiguresPoolRebuild measures how long a replica that takes over a
// configuration's lease needs to rebuild its pool from PostgreSQL: from
// taking the lease to the last waiting ticket being in its engine.
// MUSTER_FIGURES=1 runs it; MUSTER_FIGURES_TICKETS sets the pool's size
// (default 50,000).
func TestFiguresPoolRebuild(t *testing.T) {
	n := figureTickets(t)
	url := pgtest.NewDatabase(t)
	ctx := auth.With(t.Context(), operator)
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	db, err := postgres.Open(ctx, postgres.Config{URL: url, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &bus.Local{}
	replica := func(id string) (*matchmaking.Service, *lease.Manager) {
		m := lease.NewManager(lease.Config{Store: db, Clock: clk, Replica: id})
		svc, err := matchmaking.New(matchmaking.Config{Base: service.Base{Store: db, Clock: clk, ARNs: arnsForTests}, Leases: m, Bus: b})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(t.Context())
		if err := svc.Start(rctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cancel(); svc.Stop(); m.Unregister(context.Background(), matchmaking.LeaseName("apart")) })
		return svc, m
	}
	a, ma := replica("a")
	if _, err := a.CreateMatchmakingRuleSet(ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: "apart", RuleSetBody: apartRules}); err != nil {
		t.Fatal(err)
	}
	timeout, no := int32(43200), false
	if _, err := a.CreateMatchmakingConfiguration(ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: "apart", RuleSetName: "apart",
		RequestTimeoutSeconds: &timeout, AcceptanceRequired: &no, FlexMatchMode: gamelift.FlexMatchStandalone}); err != nil {
		t.Fatal(err)
	}
	takeAndLoad(t, ctx, a, ma, "none yet")
	start := time.Now()
	startTickets(t, n, func(i int) error {
		id := fmt.Sprintf("t%06d", i)
		_, err := a.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: id, ConfigurationName: "apart",
			Players: []gamelift.Player{{PlayerId: "p" + id, PlayerAttributes: skill(float64(i * 100))}}})
		return err
	})
	last := fmt.Sprintf("t%06d", n-1)
	takeAndLoad(t, ctx, a, ma, last)
	t.Logf("%d tickets written and SEARCHING in %s", n, time.Since(start).Round(time.Millisecond))

	// a stops renewing; b takes the pool over and rebuilds it from the store.
	bsvc, mb := replica("b")
	mb.Tick(ctx) // b sees a's lease, which a then leaves unrenewed
	clk.Advance(lease.DefaultTTL + time.Second)
	took := time.Now()
	takeAndLoad(t, ctx, bsvc, mb, last)
	t.Logf("FIGURE: a new owner rebuilt a pool of %d waiting tickets from PostgreSQL in %s (lease taken → last ticket in its engine)", n, time.Since(took).Round(time.Millisecond))
}

// figureTickets skips a figure test unless MUSTER_FIGURES is set and
// returns how many tickets it measures with: MUSTER_FIGURES_TICKETS, or
// 50,000.
func figureTickets(t *testing.T) int {
	t.Helper()
	if os.Getenv("MUSTER_FIGURES") == "" {
		t.Skip("a figure: MUSTER_FIGURES=1 runs it")
	}
	if v, err := strconv.Atoi(os.Getenv("MUSTER_FIGURES_TICKETS")); err == nil && v > 0 {
		return v
	}
	return 50000
}

// startTickets calls start for tickets 0 to n-1 from 32 goroutines, as
// many clients would, and fails the test on any error (each goroutine
// stops at its first).
func startTickets(t *testing.T, n int, start func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < n; i += 32 {
				if err := start(i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// takeAndLoad ticks m until svc runs the configuration's pool and, unless
// last is "none yet", the ticket last is in its engine.
func takeAndLoad(t *testing.T, ctx context.Context, svc *matchmaking.Service, m *lease.Manager, last string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		m.Tick(ctx)
		if svc.Process(ctx, "apart") == nil {
			if last == "none yet" {
				return
			}
			if x, err := svc.Explain(ctx, last); err == nil && x.Engine != nil {
				return
			}
		}
		time.Sleep(5 * time.Millisecond) // the lease's work loads the pool on its own goroutine
	}
	t.Fatal("the pool was never loaded")
}
