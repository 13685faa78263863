//go:build linux || darwin || freebsd

package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

// BenchmarkTicketLifecycle writes what a StartMatchmaking ticket costs the
// store, with documents of the sizes Muster writes: the request's
// transaction (the ticket, its player's active record, the operator audit
// event) from 64 concurrent writers, and for every two tickets the pool's
// (both tickets completed with their searching events, the active records
// deleted, the match's two events). An iteration is two tickets. It reports tickets/s and the process's
// CPU time per ticket, the figure that matters on a machine the load
// shares.
func BenchmarkTicketLifecycle(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "muster.db"), clock.Real{})
	defer db.Close()
	ctx := context.Background()
	pad := func(n int) []byte { return []byte(`{"pad":"` + strings.Repeat("x", n) + `"}`) }
	ticket, active, audit := pad(380), pad(32), pad(160)
	searching, potential, succeeded := pad(560), pad(900), pad(790)
	var next atomic.Int64
	expires := time.Now().Add(time.Hour)
	cpu0 := cpuTime()
	b.SetParallelism(32) // 64 writers on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			pair := []string{fmt.Sprint("ticket-", n, "a"), fmt.Sprint("ticket-", n, "b")}
			var err error
			for _, id := range pair {
				err = errors.Join(err, db.Update(ctx, func(w store.Writer) error {
					if _, err := w.Put(ctx, store.Record{Kind: "mmticket", ID: id, Doc: ticket, Keys: store.Keys{"config"}}); err != nil {
						return err
					}
					if _, err := w.Put(ctx, store.Record{Kind: "mmactive", ID: "config/" + id, Doc: active}); err != nil {
						return err
					}
					return w.Append(ctx, store.Event{Type: "OperatorAudit", Resource: "key", Doc: audit})
				}))
			}
			err = errors.Join(err, db.Update(ctx, func(w store.Writer) error {
				for _, id := range pair {
					if err := w.Append(ctx, store.Event{Type: "MatchmakingSearching", Resource: "config", Doc: searching}); err != nil {
						return err
					}
					if _, err := w.Put(ctx, store.Record{Kind: "mmticket", ID: id, Doc: ticket, Keys: store.Keys{"", "match"}, Version: 1, ExpiresAt: expires}); err != nil {
						return err
					}
					if err := w.Delete(ctx, "mmactive", "config/"+id, 0); err != nil {
						return err
					}
				}
				if err := w.Append(ctx, store.Event{Type: "PotentialMatchCreated", Resource: "config", Doc: potential}); err != nil {
					return err
				}
				return w.Append(ctx, store.Event{Type: "MatchmakingSucceeded", Resource: "config", Doc: succeeded})
			}))
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "tickets/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(2*b.N), "cpu-us/ticket")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
