package cli

import (
	"flag"
	"strconv"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/api/sdk"
	"github.com/musterhq/muster/internal/server"
)

// registerLimitFlags adds the listeners' connection and request limits;
// the returned func checks and finishes them after Parse (a cap of 0
// means none; a negative one is refused rather than taken for none).
func registerLimitFlags(fs *flag.FlagSet, cfg *server.Config) func(*flagChecks) {
	l, s := &cfg.Limits, &cfg.SDKLimits
	fs.IntVar(&l.MaxConns, "max-connections", httpx.DefaultMaxConns, "most open `connections` on --listen (0: no cap; lowered to fit the open file limit); beyond it a connection is closed at once")
	fs.IntVar(&l.MaxConnsPerClient, "max-connections-per-client", httpx.DefaultMaxConnsPerClient, "most open `connections` on --listen from one client address (0: no cap; clients on this machine are not capped); through a --trusted-proxies proxy, most requests in flight per X-Forwarded-For client")
	fs.DurationVar(&l.ReadHeaderTimeout, "read-header-timeout", httpx.DefaultReadHeaderTimeout, "longest `time` to read a request's headers (both listeners)")
	fs.DurationVar(&l.ReadTimeout, "read-timeout", httpx.DefaultReadTimeout, "longest `time` to read a whole request with its body (both listeners); a slower client is cut")
	fs.DurationVar(&l.IdleTimeout, "idle-timeout", httpx.DefaultIdleTimeout, "how long a kept-alive connection may wait for its next request (keep it above the AWS SDKs' 90s)")
	fs.BoolVar(&l.ProxyProtocol, "proxy-protocol", false, "connections to --listen from --trusted-proxies begin with a PROXY protocol (v1 or v2) header naming the client, as TCP load balancers send it; other peers' are served as they come")
	fs.IntVar(&s.MaxConns, "sdk-max-connections", sdk.DefaultMaxConns, "most open `connections` on --sdk-listen (0: no cap)")
	fs.IntVar(&s.MaxConnsPerClient, "sdk-max-connections-per-compute", sdk.DefaultMaxConnsPerCompute, "most open SDK `sockets` of one compute (0: no cap); counted per compute, since many game servers share a host")
	return func(checks *flagChecks) {
		s.ClientsByKey = true
		s.ReadHeaderTimeout, s.ReadTimeout, s.IdleTimeout = l.ReadHeaderTimeout, l.ReadTimeout, l.IdleTimeout
		for _, c := range []struct {
			flag string
			n    *int
		}{
			{"--max-connections", &l.MaxConns}, {"--max-connections-per-client", &l.MaxConnsPerClient},
			{"--sdk-max-connections", &s.MaxConns}, {"--sdk-max-connections-per-compute", &s.MaxConnsPerClient},
		} {
			checks.check(*c.n >= 0, c.flag, strconv.Itoa(*c.n), "must be 0 (no cap) or more")
			if *c.n == 0 {
				*c.n = -1 // no cap (zero in server.Config means the default)
			}
		}
	}
}
