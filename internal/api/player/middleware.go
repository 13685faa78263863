package player

import (
	"context"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
)

// Verifier checks a player access token (identity.Service does).
type Verifier interface {
	Verify(ctx context.Context, token string) (identity.Claims, error)
}

// Authenticate verifies the request's bearer access token and puts
// auth.Principal{Kind: auth.Player, IdentityID: …} in its context; a missing
// or bad token is answered 401 with a problem document. The token is never
// logged.
func Authenticate(v Verifier, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, ok := httpx.BearerToken(r)
			if !ok {
				httpx.WriteError(w, r, log, fault.New(fault.Unauthenticated, "a bearer access token is required (Authorization: Bearer <token>)"))
				return
			}
			c, err := v.Verify(r.Context(), tok)
			if err != nil {
				httpx.WriteError(w, r, log, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(auth.With(r.Context(), auth.Principal{Kind: auth.Player, IdentityID: c.IdentityID})))
		})
	}
}

// RateLimiter is a set of token buckets, one per key (a client IP or an
// identity), built on x/time/rate. The set is bounded: when it reaches its
// size it forgets buckets that are full again (a full bucket is what a new
// key gets anyway), then, if still too many, an arbitrary quarter. Limits
// are per replica.
type RateLimiter struct {
	limit rate.Limit
	burst int
	max   int
	clock clock.Clock

	mu      sync.RWMutex
	buckets map[string]*rate.Limiter
}

// NewRateLimiter returns a limiter allowing perSecond requests per key with
// bursts of burst, remembering at most maxKeys keys. perSecond 0 means no
// limit.
func NewRateLimiter(perSecond float64, burst, maxKeys int, clk clock.Clock) *RateLimiter {
	if clk == nil {
		clk = clock.Real{}
	}
	if maxKeys <= 0 {
		maxKeys = 100_000
	}
	if burst < 1 {
		burst = 1
	}
	return &RateLimiter{limit: rate.Limit(perSecond), burst: burst, max: maxKeys, clock: clk, buckets: map[string]*rate.Limiter{}}
}

// Allow takes a token from key's bucket; when it is empty it returns false
// and how long until a token is there.
func (l *RateLimiter) Allow(key string) (bool, time.Duration) {
	if l == nil || l.limit <= 0 {
		return true, 0
	}
	now := l.clock.Now()
	l.mu.RLock()
	b := l.buckets[key]
	l.mu.RUnlock()
	if b == nil {
		l.mu.Lock()
		if b = l.buckets[key]; b == nil {
			if len(l.buckets) >= l.max {
				l.sweepLocked(now)
			}
			b = rate.NewLimiter(l.limit, l.burst)
			l.buckets[key] = b
		}
		l.mu.Unlock()
	}
	if b.AllowN(now, 1) {
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.TokensAt(now)) / float64(l.limit) * float64(time.Second)))
	return false, wait
}

// sweepLocked expects mu held for writing.
func (l *RateLimiter) sweepLocked(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < l.max*3/4 {
			break
		}
		delete(l.buckets, k)
	}
}

// KeyFunc picks the bucket of a request; "" skips the limit.
type KeyFunc func(*http.Request) string

// ClientIP keys by the connection's remote address (behind a proxy, the
// proxy's; Config.ClientIP may name the client a trusted proxy forwards):
// an IPv4 client by its address, an IPv6 client by its /64
// (httpx.ClientKey), which one subscriber holds whole.
func ClientIP(r *http.Request) string {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return httpx.ClientKey(ap.Addr())
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// PlayerIdentity keys by the authenticated player (after Authenticate).
func PlayerIdentity(r *http.Request) string {
	return auth.From(r.Context()).IdentityID
}

// Middleware limits requests by key: over the limit is 429 with a
// Retry-After header (whole seconds) and a problem document.
func (l *RateLimiter) Middleware(key KeyFunc, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if l == nil || l.limit <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if k := key(r); k != "" {
				if ok, wait := l.Allow(k); !ok {
					secs := max(1, int(math.Ceil(wait.Seconds())))
					w.Header().Set("Retry-After", strconv.Itoa(secs))
					httpx.WriteError(w, r, log, fault.New(fault.LimitExceeded, "too many requests; retry after %d s", secs))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// CORS lets browser games on the given origins call the player API:
// "*" allows any origin. Tokens travel in the Authorization header, never in
// cookies, so credentials are not allowed. Preflight requests are answered
// by Preflight.
type CORS struct {
	any     bool
	origins []string
}

// NewCORS returns the CORS policy for origins (scheme://host[:port] or "*").
func NewCORS(origins []string) *CORS {
	c := &CORS{}
	for _, o := range origins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		switch o {
		case "":
		case "*":
			c.any = true
		default:
			c.origins = append(c.origins, strings.ToLower(o))
		}
	}
	return c
}

func (c *CORS) allowed(origin string) bool {
	return origin != "" && (c.any || slices.Contains(c.origins, strings.ToLower(origin)))
}

func (c *CORS) headers(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if !c.allowed(origin) {
		return false
	}
	if c.any {
		w.Header().Set("Access-Control-Allow-Origin", "*")
	} else {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
	w.Header().Set("Access-Control-Expose-Headers", "ETag, Retry-After, X-Request-Id")
	return true
}

// Middleware adds CORS headers to responses for allowed origins.
func (c *CORS) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.headers(w, r)
		next.ServeHTTP(w, r)
	})
}

// Preflight answers OPTIONS requests: 204, with the allowed methods and
// headers when the origin is allowed.
func (c *CORS) Preflight() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.headers(w, r) {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
			w.Header().Set("Access-Control-Max-Age", "600")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
