package server

import (
	"fmt"
	"net/http"

	"github.com/musterhq/muster/internal/api/httpx"
	apisdk "github.com/musterhq/muster/internal/api/sdk"
)

// metricsMaxConns caps the connections of --metrics-listen.
const metricsMaxConns = 256

// fdReserve are the file descriptors kept for everything but the
// listeners' connections: the store, logs, outgoing webhooks, agents.
const fdReserve = 1024

// configureLimits builds the limiters of the main and SDK listeners from
// Config.Limits and Config.SDKLimits, lowering a connection cap the
// process's file limit could not honour (accepting beyond it would fail
// with "too many open files" for every client, not only the excess).
func (s *Server) configureLimits() {
	metrics := httpx.NewLimitMetrics(s.reg)
	main := s.cfg.Limits
	main.TrustedProxies = s.trustedProxies
	main = s.fitFileLimit("--max-connections", main.WithDefaults())
	s.limiter = httpx.NewLimiter("main", main, metrics)
	sdk := s.cfg.SDKLimits
	if sdk.MaxConns == 0 {
		sdk.MaxConns = apisdk.DefaultMaxConns
	}
	if sdk.MaxConnsPerClient == 0 {
		sdk.MaxConnsPerClient = apisdk.DefaultMaxConnsPerCompute
	}
	// Game servers connect directly, and many share a host: their cap is
	// per compute.
	sdk.TrustedProxies, sdk.ClientsByKey = nil, true
	sdk = sdk.WithDefaults()
	s.sdkLimiter = httpx.NewLimiter("sdk", s.fitFileLimit("--sdk-max-connections", sdk), metrics)
	// The metrics listener serves scrapers: a few clients, the main
	// listener's time-outs.
	s.metricsLimiter = httpx.NewLimiter("metrics", httpx.Limits{MaxConns: metricsMaxConns,
		ReadHeaderTimeout: main.ReadHeaderTimeout, ReadTimeout: main.ReadTimeout, IdleTimeout: main.IdleTimeout}, metrics)
}

// fitFileLimit lowers l.MaxConns below the soft RLIMIT_NOFILE (which Go
// raises to the hard limit at start) and warns when it does.
func (s *Server) fitFileLimit(flag string, l httpx.Limits) httpx.Limits {
	nofile, ok := openFileLimit()
	if !ok {
		return l
	}
	fit := max(int(nofile)-fdReserve, int(nofile)/2)
	if l.MaxConns > 0 && l.MaxConns > fit {
		s.log.Warn(fmt.Sprintf("%s lowered to fit the open file limit (raise it with ulimit -n or LimitNOFILE=)", flag),
			"asked", l.MaxConns, "allowed", fit, "nofile", nofile)
		l.MaxConns = fit
	}
	return l
}

// refuseEarly refuses operator requests without a usable credential
// before their body is read (httpx.OperatorAuth.RefuseEarly).
func (s *Server) refuseEarly(opAuth httpx.OperatorAuth, next http.Handler) http.Handler {
	return opAuth.RefuseEarly(next, func() { s.limiter.Refuse(httpx.RefusedUnauthorized) })
}
