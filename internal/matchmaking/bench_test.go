package matchmaking_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store/sqlite"
)

// BenchmarkStartMatchmaking measures the service and store cost of a
// ticket (no HTTP): pairs of tickets that match each other at once.
func BenchmarkStartMatchmaking(b *testing.B) {
	db, err := sqlite.Open(b.Context(), sqlite.Config{Path: filepath.Join(b.TempDir(), "m.db"), Clock: clock.Real{}})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc, err := matchmaking.New(matchmaking.Config{Base: service.Base{Store: db, ARNs: gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := auth.With(context.Background(), operator)
	run, cancel := context.WithCancel(ctx)
	defer cancel()
	svc.Start(run)
	defer svc.Stop()
	svc.CreateMatchmakingRuleSet(ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: "r", RuleSetBody: duelRules})
	to, no := int32(600), false
	if _, err := svc.CreateMatchmakingConfiguration(ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: "c", RuleSetName: "r", RequestTimeoutSeconds: &to, AcceptanceRequired: &no, FlexMatchMode: "STANDALONE"}); err != nil {
		b.Fatal(err)
	}
	var k atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := k.Add(1)
			sk := float64(n/2) * 1000
			_, err := svc.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: fmt.Sprint("t", n), ConfigurationName: "c",
				Players: []gamelift.Player{{PlayerId: fmt.Sprint("p", n), PlayerAttributes: skill(sk)}}})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
