package player_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/api/player"
	"github.com/musterhq/muster/internal/clock"
)

// TestThePerIPLimitKeysAnIPv6ClientByItsSlash64: one subscriber holds a
// whole /64 and may send from any address in it, so its addresses share
// one bucket; IPv4 clients keep one bucket per address.
func TestThePerIPLimitKeysAnIPv6ClientByItsSlash64(t *testing.T) {
	l := player.NewRateLimiter(0.001, 1, 0, clock.NewFake(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)))
	h := l.Middleware(player.ClientIP, nil)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	get := func(remote string) int {
		r := httptest.NewRequest(http.MethodGet, "/v1/locations", nil)
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for _, c := range []struct {
		name, remote string
		want         int
	}{
		{"the first address of a /64 is served", "[2001:db8::1]:4000", http.StatusOK},
		{"another address of the same /64 shares its bucket", "[2001:db8::2]:4001", http.StatusTooManyRequests},
		{"an address of another /64 has its own bucket", "[2001:db8:0:1::1]:4000", http.StatusOK},
		{"an IPv4 client is served", "203.0.113.1:4000", http.StatusOK},
		{"the same IPv4 client again is limited", "203.0.113.1:4001", http.StatusTooManyRequests},
		{"the next IPv4 address has its own bucket", "203.0.113.2:4000", http.StatusOK},
	} {
		if got := get(c.remote); got != c.want {
			t.Fatalf("%s: %s got %d, want %d", c.name, c.remote, got, c.want)
		}
	}
	if got := player.ClientIP(&http.Request{RemoteAddr: "203.0.113.9:80"}); got != "203.0.113.9" {
		t.Fatalf("an IPv4 client's key is %q, want its address as before", got)
	}
}
