package player_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/server"
)

// BenchmarkHTTP drives the real server handler (server.New, SQLite store in
// a temporary directory, every middleware) on a loopback listener with 64
// concurrent keep-alive clients, each its own player. Rate limits are set
// high enough never to refuse, so the limiter's cost is in the figures.
// Run: go test ./internal/api/player -run XXX -bench HTTP -benchtime 20000x
func BenchmarkHTTP(b *testing.B) {
	const clients = 64
	e := newAPI(b, func(c *server.Config) {
		c.FakeClock = false
		c.Player.IPRate, c.Player.IPBurst = 1e9, 1e9
		c.Player.IdentityRate, c.Player.IdentityBurst = 1e9, 1e9
	})
	players := make([]tokens, clients)
	for i := range players {
		players[i] = e.player(b)
		e.do(b, "PATCH", "/v1/admin/players/"+players[i].IdentityID, admin, `{"attributes":{"skill":{"N":1}},"data":{"displayName":"p"}}`, nil).Want(200)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	run := func(b *testing.B, req func(i, n int) *http.Request) {
		var next atomic.Int64
		var failed atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		start := time.Now()
		for c := range clients {
			wg.Go(func() {
				for {
					n := int(next.Add(1))
					if n > b.N {
						return
					}
					res, err := client.Do(req(c, n))
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		if f := failed.Load(); f > 0 {
			b.Fatalf("%d of %d requests failed", f, b.N)
		}
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	}
	b.Run("GET_players_me", func(b *testing.B) {
		run(b, func(c, n int) *http.Request {
			r, _ := http.NewRequest("GET", e.TS.URL+"/v1/players/me", nil)
			r.Header.Set("Authorization", players[c].bearer())
			return r
		})
	})
	b.Run("PATCH_admin_players", func(b *testing.B) {
		run(b, func(c, n int) *http.Request {
			body := fmt.Sprintf(`{"attributes":{"skill":{"N":%d}}}`, n)
			r, _ := http.NewRequest("PATCH", e.TS.URL+"/v1/admin/players/"+players[c].IdentityID, strings.NewReader(body))
			r.Header.Set("Authorization", admin)
			r.Header.Set("Content-Type", "application/json")
			return r
		})
	})
}
