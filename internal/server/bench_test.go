package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/musterhq/muster/internal/loadtest"
	"github.com/musterhq/muster/internal/server"
)

const (
	benchKeyID  = "MKIABENCHADMIN000001"
	benchSecret = "bench-admin-secret-0123456789abcdef"
	// adminBearer authorises a request with the bench admin key.
	adminBearer = "Bearer " + benchKeyID + ":" + benchSecret
)

// BenchmarkControlAPI measures control-API calls through the whole server
// (SigV4, codec, service, SQLite) over real loopback HTTP at concurrency 64,
// for a read (ListLocations) and a durable write (CreateLocation) in each
// codec. The client signs every request as the SDKs do, on the same cores.
func BenchmarkControlAPI(b *testing.B) {
	for _, codec := range []string{"cbor", "json"} {
		for _, op := range []string{"ListLocations", "CreateLocation"} {
			b.Run(fmt.Sprintf("%s/%s", codec, op), func(b *testing.B) {
				ctx := context.Background()
				srv, err := server.New(ctx, server.Config{DataDir: b.TempDir(), AdminAccessKeyID: benchKeyID, AdminSecretAccessKey: benchSecret},
					slog.New(slog.DiscardHandler))
				if err != nil {
					b.Fatal(err)
				}
				defer srv.Close()
				hs := httptest.NewServer(srv.Handler())
				defer hs.Close()
				c := loadtest.NewControlClient(hs.URL, server.DefaultRegion, aws.Credentials{AccessKeyID: benchKeyID, SecretAccessKey: benchSecret}, codec == "cbor", 64)
				var n atomic.Int64
				if op == "ListLocations" {
					// A realistic table: reads must not slow down as it grows.
					for i := range 5000 {
						if err := c.Call(ctx, "CreateLocation", map[string]any{"LocationName": fmt.Sprintf("custom-pre-%05d", i)}); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.SetParallelism(32) // 64 goroutines on 2 cores
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						var err error
						if op == "ListLocations" {
							err = c.Call(ctx, op, map[string]any{"Limit": 10})
						} else {
							err = c.Call(ctx, op, map[string]any{"LocationName": fmt.Sprintf("custom-b-%d", n.Add(1))})
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
			})
		}
	}
}
