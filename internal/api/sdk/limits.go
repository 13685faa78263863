package sdk

import (
	"net/http"

	"github.com/musterhq/muster/internal/api/httpx"
)

// DefaultMaxConns and DefaultMaxConnsPerCompute are the SDK listener's
// caps unless configured: GameLift runs at most 50 processes on one
// compute, and a compute's processes reconnect with a new socket before
// the old one is found dead, so 256 leaves room for both.
const (
	DefaultMaxConns           = 10_000
	DefaultMaxConnsPerCompute = 256
)

// DefaultLimiter is the SDK listener's limiter when Config gives none.
func DefaultLimiter() *httpx.Limiter {
	return httpx.NewLimiter("sdk", httpx.Limits{MaxConns: DefaultMaxConns, MaxConnsPerClient: DefaultMaxConnsPerCompute, ClientsByKey: true}, nil)
}

// limitPerCompute caps each compute's sockets at the limiter's
// MaxConnsPerClient: many game servers share a host, so the SDK listener
// counts compute by compute, not address by address. It decides from the
// query alone, before the token is checked or the socket upgraded.
func (s *Server) limitPerCompute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		release, ok := s.cfg.Limiter.AcquireKey(q.Get("FleetId") + "/" + q.Get("ComputeId"))
		if !ok {
			s.cfg.Limiter.Refuse(httpx.RefusedPerCompute)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many sockets from this compute", http.StatusServiceUnavailable)
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}
