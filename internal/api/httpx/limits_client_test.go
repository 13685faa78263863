package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/musterhq/muster/internal/api/httpx"
)

func TestAClientIsKeyedByItsAddressOrItsIPv6Slash64(t *testing.T) {
	for _, c := range []struct{ name, addr, want string }{
		{"an IPv4 client by its address", "203.0.113.7", "203.0.113.7"},
		{"an IPv4-mapped IPv6 address as IPv4", "::ffff:203.0.113.7", "203.0.113.7"},
		{"an IPv6 client by its /64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"an IPv6 address with a zone without it", "fe80::1%eth0", "fe80::/64"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := httpx.ClientKey(netip.MustParseAddr(c.addr)); got != c.want {
				t.Fatalf("ClientKey(%s) = %s, want %s", c.addr, got, c.want)
			}
		})
	}
}

// TestForwardedIPv6ClientsOfOneSlash64ShareTheirCap: two addresses of one
// /64 behind a trusted proxy are one client for the in-flight cap; an
// address of another /64 is another client.
func TestForwardedIPv6ClientsOfOneSlash64ShareTheirCap(t *testing.T) {
	l := httpx.NewLimiter("main", httpx.Limits{MaxConnsPerClient: 1, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}}, nil)
	got := map[string]int{}
	var h http.Handler
	h = l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Nested") != "" {
			return
		}
		// While [2001:db8::1]'s request is in flight:
		for _, xff := range []string{"[2001:db8::2]:443", "2001:db8:0:1::1"} {
			nr := httptest.NewRequest(http.MethodGet, "/v1/players/me", nil)
			nr.RemoteAddr, nr.Header = "10.0.0.1:1", http.Header{"X-Forwarded-For": {xff}, "X-Nested": {"1"}}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, nr)
			got[xff] = rec.Code
		}
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr, r.Header = "10.0.0.1:1", http.Header{"X-Forwarded-For": {"2001:db8::1"}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("the first request got %d", rec.Code)
	}
	if got["[2001:db8::2]:443"] != http.StatusTooManyRequests {
		t.Errorf("another address of the same /64 got %d, want 429 (one client)", got["[2001:db8::2]:443"])
	}
	if got["2001:db8:0:1::1"] != http.StatusOK {
		t.Errorf("an address of another /64 got %d, want 200", got["2001:db8:0:1::1"])
	}
}
