package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/api/httpx"
)

func TestTheForwardedClientIsTheRightmostUntrustedHop(t *testing.T) {
	l := httpx.NewLimiter("main", httpx.Limits{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, nil)
	for _, c := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"a proxy's client", "10.0.0.1:4000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"through two trusted proxies", "10.0.0.1:4000", []string{"203.0.113.7, 10.0.0.2"}, "203.0.113.7"},
		{"a spoofed hop before the real client is ignored", "10.0.0.1:4000", []string{"1.2.3.4", "203.0.113.7"}, "203.0.113.7"},
		{"an untrusted peer's header is not believed", "198.51.100.1:4000", []string{"203.0.113.7"}, ""},
		{"no header", "10.0.0.1:4000", nil, ""},
		{"a malformed hop", "10.0.0.1:4000", []string{"nonsense"}, ""},
		{"an IPv4 hop with its port", "10.0.0.1:4000", []string{"203.0.113.7:5678"}, "203.0.113.7"},
		{"an IPv6 hop with its port", "10.0.0.1:4000", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"an IPv6 hop in brackets without a port", "10.0.0.1:4000", []string{"[2001:db8::1]"}, "2001:db8::1"},
		{"a trusted hop with its port is skipped", "10.0.0.1:4000", []string{"203.0.113.7:1, 10.0.0.2:80"}, "203.0.113.7"},
		{"an IPv4 address in brackets is malformed", "10.0.0.1:4000", []string{"[203.0.113.7]"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = c.peer
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got, ok := l.ForwardedClient(r)
			if c.want == "" {
				if ok {
					t.Fatalf("got %v, want none", got)
				}
				return
			}
			if !ok || got.String() != c.want {
				t.Fatalf("got %v (%v), want %s", got, ok, c.want)
			}
		})
	}
}

func TestRequestsThroughAProxyAreCappedPerForwardedClient(t *testing.T) {
	l := httpx.NewLimiter("main", httpx.Limits{MaxConnsPerClient: 1, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}}, nil)
	inner := make(chan int, 1)
	var h http.Handler
	h = l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// While this client's first request is in flight, its second
		// is refused and another client's is served.
		if r.Header.Get("X-Forwarded-For") == "203.0.113.7" && r.Header.Get("X-Nested") == "" {
			for _, xff := range []string{"203.0.113.7", "203.0.113.8"} {
				nr := httptest.NewRequest(http.MethodGet, "/v1/players/me", nil)
				nr.RemoteAddr, nr.Header = "10.0.0.1:1", http.Header{"X-Forwarded-For": {xff}, "X-Nested": {"1"}}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, nr)
				if xff == "203.0.113.7" {
					// The player API's refusals are problem documents.
					if ct, ra := rec.Header().Get("Content-Type"), rec.Header().Get("Retry-After"); ct != "application/problem+json" || ra != "1" ||
						!strings.Contains(rec.Body.String(), `"code":"LimitExceeded"`) {
						t.Errorf("the refusal: Content-Type %q, Retry-After %q, body %s", ct, ra, rec.Body)
					}
					inner <- rec.Code
				} else if rec.Code != http.StatusOK {
					t.Errorf("another client got %d", rec.Code)
				}
			}
		}
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr, r.Header = "10.0.0.1:1", http.Header{"X-Forwarded-For": {"203.0.113.7"}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("the first request got %d", rec.Code)
	}
	if got := <-inner; got != http.StatusTooManyRequests {
		t.Fatalf("the second concurrent request got %d, want 429", got)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("a request after the first ended got %d", rec.Code)
	}
}

func TestSlotsCapHoldersPerKey(t *testing.T) {
	s := httpx.NewSlots(2)
	r1, ok1 := s.Acquire("fleet-1/compute-a")
	_, ok2 := s.Acquire("fleet-1/compute-a")
	_, ok3 := s.Acquire("fleet-1/compute-a")
	_, other := s.Acquire("fleet-1/compute-b")
	if !ok1 || !ok2 || ok3 || !other {
		t.Fatalf("acquire: %v %v %v %v, want true true false true", ok1, ok2, ok3, other)
	}
	r1()
	r1() // releasing twice gives back one slot
	if _, ok := s.Acquire("fleet-1/compute-a"); !ok {
		t.Fatal("a released slot was not given back")
	}
	if _, ok := s.Acquire("fleet-1/compute-a"); ok {
		t.Fatal("a double release gave back two slots")
	}
}

// FuzzForwardedClient: any X-Forwarded-For yields either no client or an
// address that is not a trusted proxy and appears in the header.
func FuzzForwardedClient(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "203.0.113.7, 10.0.0.2", "1.2.3.4,203.0.113.7", "::ffff:203.0.113.7", "2001:db8::1", "203.0.113.7:5678", "[2001:db8::1]:443", "[2001:db8::1]", "", ",,", "nonsense, 10.0.0.2", "10.0.0.2"} {
		f.Add(s)
	}
	l := httpx.NewLimiter("main", httpx.Limits{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, nil)
	f.Fuzz(func(t *testing.T, xff string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.0.0.1:4000"
		r.Header.Set("X-Forwarded-For", xff)
		a, ok := l.ForwardedClient(r)
		if !ok {
			return
		}
		if !a.IsValid() || netip.MustParsePrefix("10.0.0.0/8").Contains(a) {
			t.Fatalf("%q gave %v", xff, a)
		}
	})
}
