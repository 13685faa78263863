package httpx

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pires/go-proxyproto"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/fault"
)

// Limits are one listener's connection and request limits. Zero fields
// take the defaults below; a negative cap means no cap.
type Limits struct {
	// MaxConns caps the listener's open connections; beyond it a new
	// connection is closed as soon as it is accepted.
	MaxConns int
	// MaxConnsPerClient caps the open connections of one client address.
	// Peers in TrustedProxies are not one client: their requests are
	// counted per forwarded client instead (Limiter.Handler), in flight.
	MaxConnsPerClient int
	// LoopbackCapped caps clients on this machine too. They are not
	// capped per address by default: load tools, agents and dev mode run
	// there, and a local process is not the remote client these caps
	// keep from starving the others.
	LoopbackCapped bool
	// ClientsByKey makes MaxConnsPerClient cap the holders of a key the
	// handler names (AcquireKey: a compute on the SDK listener, where many
	// game servers share a host) rather than connections per address.
	ClientsByKey bool
	// ReadHeaderTimeout bounds reading a request's headers, ReadTimeout
	// the whole request with its body, IdleTimeout how long a kept-alive
	// connection waits for its next request.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	// TrustedProxies are the load balancers and proxies whose
	// X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// ProxyProtocol makes every connection from TrustedProxies begin with
	// a PROXY protocol header (v1 or v2), whose source address is then
	// the request's client; other peers' connections are served as they
	// come, so a PROXY header from them is never believed.
	ProxyProtocol bool
}

// The defaults leave room for 50,000 player sockets with 10,000 to spare,
// keep one address from holding more than a thousand connections, cut a
// body that takes more than 30 s (a 1 MiB body at 35 kB/s), and keep idle
// connections longer than the AWS SDKs' own 90 s, so the server never
// closes a connection a client may be about to reuse.
const (
	DefaultMaxConns          = 60_000
	DefaultMaxConnsPerClient = 1_000
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
)

// WithDefaults fills zero fields with the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxConns == 0 {
		l.MaxConns = DefaultMaxConns
	}
	if l.MaxConnsPerClient == 0 {
		l.MaxConnsPerClient = DefaultMaxConnsPerClient
	}
	if l.ReadHeaderTimeout == 0 {
		l.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if l.ReadTimeout == 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	return l
}

// Refusal reasons, the values of the reason label of
// muster_connections_refused_total.
const (
	RefusedMaxConns      = "max_connections"       // the listener's cap
	RefusedPerClient     = "per_client"            // one client's cap
	RefusedPerCompute    = "per_compute"           // one compute's cap (SDK listener)
	RefusedHeaderTimeout = "header_timeout"        // headers not read in time
	RefusedBodyTimeout   = "body_timeout"          // a body not read in time
	RefusedUnauthorized  = "unauthenticated_early" // refused before the body was read
)

// LimitMetrics count refusals and open connections per listener.
type LimitMetrics struct {
	refused *prometheus.CounterVec
	open    *prometheus.GaugeVec
}

// NewLimitMetrics registers the connection metrics on reg.
func NewLimitMetrics(reg prometheus.Registerer) *LimitMetrics {
	m := &LimitMetrics{
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_connections_refused_total",
			Help: "Connections and requests refused or cut by a listener's limits, by listener and reason.",
		}, []string{"listener", "reason"}),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "muster_connections_open", Help: "Open connections by listener.",
		}, []string{"listener"}),
	}
	reg.MustRegister(m.refused, m.open)
	return m
}

// Limiter applies one listener's Limits: at accept (Listener), in the
// HTTP server (Configure) and per request (Handler).
type Limiter struct {
	name    string
	limits  Limits
	refused func(reason string) prometheus.Counter
	open    prometheus.Gauge

	total  atomic.Int64
	mu     sync.Mutex
	byAddr map[netip.Addr]int // open connections per client network (ClientNet)
	// keyed counts in-flight requests per forwarded client, or per key
	// (AcquireKey).
	keyed *Slots
}

// NewLimiter returns the limiter of the listener called name (the
// metrics' listener label). m may be nil (no metrics).
func NewLimiter(name string, l Limits, m *LimitMetrics) *Limiter {
	l = l.WithDefaults()
	lim := &Limiter{name: name, limits: l, byAddr: map[netip.Addr]int{},
		refused: func(string) prometheus.Counter {
			return prometheus.NewCounter(prometheus.CounterOpts{Name: "unregistered"})
		},
		open: prometheus.NewGauge(prometheus.GaugeOpts{Name: "unregistered"})}
	if m != nil {
		lim.refused = func(reason string) prometheus.Counter { return m.refused.WithLabelValues(name, reason) }
		lim.open = m.open.WithLabelValues(name)
	}
	lim.keyed = NewSlots(l.MaxConnsPerClient)
	return lim
}

// Limits returns the limits in force (defaults filled).
func (l *Limiter) Limits() Limits { return l.limits }

// Refuse counts one refusal for reason.
func (l *Limiter) Refuse(reason string) { l.refused(reason).Inc() }

// Configure sets srv's time-outs and the hook that tells timed-out
// headers from timed-out bodies.
func (l *Limiter) Configure(srv *http.Server) {
	srv.ReadHeaderTimeout = l.limits.ReadHeaderTimeout
	srv.ReadTimeout = l.limits.ReadTimeout
	srv.IdleTimeout = l.limits.IdleTimeout
	if l.limits.ProxyProtocol {
		nextCtx := srv.ConnContext
		srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			if nextCtx != nil {
				ctx = nextCtx(ctx, c)
			}
			if tc, ok := c.(*tls.Conn); ok {
				c = tc.NetConn()
			}
			_, proxied := c.(*proxyproto.Conn)
			return context.WithValue(ctx, proxiedKey{}, proxied)
		}
	}
	next := srv.ConnState
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		if lc := unwrapConn(c); lc != nil {
			lc.state.Store(int32(st))
		}
		if next != nil {
			next(c, st)
		}
	}
}

// Listener wraps ln so that connections beyond the caps are closed as
// soon as they are accepted, before a byte is read, and reads the PROXY
// header of trusted proxies' connections (ProxyProtocol). The header is
// read by the connection's own goroutine, never by the accept loop.
func (l *Limiter) Listener(ln net.Listener) net.Listener {
	out := net.Listener(&limitListener{Listener: ln, l: l})
	if !l.limits.ProxyProtocol {
		return out
	}
	return &proxyproto.Listener{Listener: out, ReadHeaderTimeout: l.limits.ReadHeaderTimeout,
		ConnPolicy: func(o proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
			if addr, ok := peerAddr(o.Upstream); ok && l.trusted(addr) {
				return proxyproto.REQUIRE, nil
			}
			return proxyproto.SKIP, nil
		}}
}

// trusted says whether addr is a trusted proxy.
func (l *Limiter) trusted(addr netip.Addr) bool {
	for _, p := range l.limits.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// perAddr says whether a peer's connections count against its address's cap.
func (l *Limiter) perAddr(addr netip.Addr, known bool) bool {
	return known && l.limits.MaxConnsPerClient > 0 && !l.limits.ClientsByKey && !l.trusted(addr) &&
		(l.limits.LoopbackCapped || !addr.IsLoopback())
}

// AcquireKey takes one of key's MaxConnsPerClient slots (ClientsByKey);
// ok is false when key holds them all. release gives it back.
func (l *Limiter) AcquireKey(key string) (release func(), ok bool) { return l.keyed.Acquire(key) }

// admit takes a connection slot for a peer, or says which cap refuses it.
func (l *Limiter) admit(addr netip.Addr, known bool) (reason string, ok bool) {
	if max := l.limits.MaxConns; max > 0 && l.total.Load() >= int64(max) {
		return RefusedMaxConns, false
	}
	if l.perAddr(addr, known) {
		key := ClientNet(addr)
		l.mu.Lock()
		if l.byAddr[key] >= l.limits.MaxConnsPerClient {
			l.mu.Unlock()
			return RefusedPerClient, false
		}
		l.byAddr[key]++
		l.mu.Unlock()
	}
	l.total.Add(1)
	l.open.Inc()
	return "", true
}

// release gives back the slots of a closed connection.
func (l *Limiter) release(addr netip.Addr, counted bool) {
	if counted {
		key := ClientNet(addr)
		l.mu.Lock()
		if l.byAddr[key]--; l.byAddr[key] <= 0 {
			delete(l.byAddr, key)
		}
		l.mu.Unlock()
	}
	l.total.Add(-1)
	l.open.Dec()
}

type limitListener struct {
	net.Listener
	l *Limiter
}

// Accept returns the next connection within the caps, closing the others.
func (ln *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr, known := peerAddr(c.RemoteAddr())
		reason, ok := ln.l.admit(addr, known)
		if !ok {
			ln.l.Refuse(reason)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // a reset: nothing is owed to a refused peer
			}
			c.Close()
			continue
		}
		return &limitConn{Conn: c, l: ln.l, addr: addr, counted: ln.l.perAddr(addr, known)}, nil
	}
}

func peerAddr(a net.Addr) (netip.Addr, bool) {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, ok := netip.AddrFromSlice(ta.IP)
		return ip.Unmap(), ok
	}
	ap, err := netip.ParseAddrPort(a.String())
	return ap.Addr().Unmap(), err == nil
}

// limitConn is an admitted connection: it gives back its slots when
// closed and reports a read that timed out while headers or a body were
// being read.
type limitConn struct {
	net.Conn
	l       *Limiter
	addr    netip.Addr
	counted bool
	state   atomic.Int32 // the http.ConnState the server last gave it
	once    sync.Once
	timeout atomic.Bool
	// aborted is set while the read deadline lies in the past: the
	// server ending a read itself (a pending background read, an early
	// refusal), not a slow client.
	aborted atomic.Bool
}

func (c *limitConn) SetReadDeadline(t time.Time) error {
	c.aborted.Store(!t.IsZero() && t.Before(time.Now()))
	return c.Conn.SetReadDeadline(t)
}

func (c *limitConn) SetDeadline(t time.Time) error {
	c.aborted.Store(!t.IsZero() && t.Before(time.Now()))
	return c.Conn.SetDeadline(t)
}

func (c *limitConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() && !c.aborted.Load() && c.timeout.CompareAndSwap(false, true) {
		switch http.ConnState(c.state.Load()) {
		case http.StateNew:
			c.l.Refuse(RefusedHeaderTimeout)
		case http.StateActive:
			c.l.Refuse(RefusedBodyTimeout)
		default:
			c.timeout.Store(false) // an idle keep-alive ending is no refusal
		}
	}
	return n, err
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.addr, c.counted) })
	return err
}

// unwrapConn finds the limitConn under c (TLS wraps it).
func unwrapConn(c net.Conn) *limitConn {
	for range 4 {
		switch v := c.(type) {
		case *limitConn:
			return v
		case *tls.Conn:
			c = v.NetConn()
		case *proxyproto.Conn:
			c = v.Raw()
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// Handler caps the in-flight requests of each client that reaches the
// listener through a trusted proxy (a load balancer is not one client):
// beyond MaxConnsPerClient such requests are answered 429 at once.
// Clients connecting directly are capped at accept. It also counts the
// HTTP/2 request bodies cut by the read time-out.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return l.countStreamBodyTimeouts(l.capForwardedClients(next))
}

// countStreamBodyTimeouts counts an HTTP/2 request body that the read
// time-out cut. Over HTTP/2 the time-out ends one stream, not the
// connection, so limitConn never sees it: the handler's read of the body
// does, as os.ErrDeadlineExceeded.
func (l *Limiter) countStreamBodyTimeouts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && r.Body != nil && r.Body != http.NoBody {
			r.Body = &streamBody{ReadCloser: r.Body, l: l}
		}
		next.ServeHTTP(w, r)
	})
}

// streamBody is an HTTP/2 request body that reports its read time-out
// once.
type streamBody struct {
	io.ReadCloser
	l       *Limiter
	counted bool
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.counted && errors.Is(err, os.ErrDeadlineExceeded) {
		b.counted = true
		b.l.Refuse(RefusedBodyTimeout)
	}
	return n, err
}

// capForwardedClients is Handler's cap on a trusted proxy's clients.
func (l *Limiter) capForwardedClients(next http.Handler) http.Handler {
	if len(l.limits.TrustedProxies) == 0 || l.limits.MaxConnsPerClient <= 0 || l.limits.ClientsByKey {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client, ok := l.ForwardedClient(r)
		if !ok && viaProxyProtocol(r.Context()) {
			client, ok = remoteAddr(r)
		}
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		release, ok := l.keyed.Acquire(ClientKey(client))
		if !ok {
			l.Refuse(RefusedPerClient)
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Connection", "close")
			refuseBusyClient(w, r)
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}

// refuseBusyClient answers a request over its client's cap with 429: a
// problem document on the player and operator API (/v1/...), as their
// every other refusal is, and plain text elsewhere (the control API's
// clients retry a 429 whatever its body; a probe reads only the status).
func refuseBusyClient(w http.ResponseWriter, r *http.Request) {
	const msg = "too many concurrent requests from this client"
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		http.Error(w, msg, http.StatusTooManyRequests)
		return
	}
	WriteError(w, r, nil, fault.New(fault.LimitExceeded, msg))
}

// remoteAddr is the request's peer address.
func remoteAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return ap.Addr().Unmap(), err == nil
}

type proxiedKey struct{}

// viaProxyProtocol says whether ctx's request came on a connection that
// began with a trusted proxy's PROXY header (its RemoteAddr is then the
// client's).
func viaProxyProtocol(ctx context.Context) bool { v, _ := ctx.Value(proxiedKey{}).(bool); return v }

// ForwardedClient is the client address X-Forwarded-For names for a
// request from a trusted proxy: the rightmost address that is not itself
// a trusted proxy. A hop may carry the client's port (`1.2.3.4:5678`,
// `[2001:db8::1]:443`), as some proxies write it. ok is false for a
// request that did not come through a trusted proxy or carries no usable
// X-Forwarded-For.
func (l *Limiter) ForwardedClient(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !l.trusted(ap.Addr().Unmap()) {
		return netip.Addr{}, false
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return netip.Addr{}, false
		}
		if !l.trusted(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// parseHop reads one X-Forwarded-For entry: an address, or an address and
// port (IPv6 in brackets), or an IPv6 address in brackets alone.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if inner, ok := strings.CutPrefix(s, "["); ok {
		if inner, ok := strings.CutSuffix(inner, "]"); ok {
			if a, err := netip.ParseAddr(inner); err == nil && a.Is6() {
				return a.Unmap(), true
			}
		}
	}
	return netip.Addr{}, false
}

// ClientNet is the network a client address is limited as: an IPv4
// address by itself, an IPv6 address by its /64. One IPv6 subscriber
// usually holds a whole /64 (a home line, a cloud instance) and may send
// from any of its 2^64 addresses, so keying by the full address would give
// it a fresh bucket and a fresh connection cap for each.
func ClientNet(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if !a.Is6() {
		return a
	}
	p, _ := a.Prefix(64) // cannot fail: a is a valid IPv6 address
	return p.Addr()
}

// ClientKey is ClientNet as a rate-limit key: "203.0.113.7" for an IPv4
// client, "2001:db8::/64" for an IPv6 one.
func ClientKey(a netip.Addr) string {
	n := ClientNet(a)
	if n.Is6() {
		return n.String() + "/64"
	}
	return n.String()
}

// Slots caps concurrent holders per key (a forwarded client, a compute).
type Slots struct {
	max  int
	mu   sync.Mutex
	held map[string]int
}

// NewSlots returns slots allowing max holders per key (max <= 0: no cap).
func NewSlots(max int) *Slots { return &Slots{max: max, held: map[string]int{}} }

// Acquire takes a slot for key; ok is false when key holds max already.
// release gives it back (once).
func (s *Slots) Acquire(key string) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.max > 0 && s.held[key] >= s.max {
		return nil, false
	}
	s.held[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.held[key]--; s.held[key] <= 0 {
				delete(s.held, key)
			}
			s.mu.Unlock()
		})
	}, true
}
