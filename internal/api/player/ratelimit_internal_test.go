package player

import (
	"fmt"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
)

func TestRateLimiterIsBoundedAndRefills(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	l := NewRateLimiter(2, 2, 100, clk)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("a first request is refused")
	}
	l.Allow("a")
	ok, wait := l.Allow("a")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("third request in a burst of 2: ok=%v wait=%v", ok, wait)
	}
	for i := range 10_000 {
		l.Allow(fmt.Sprint("ip-", i))
		if n := len(l.buckets); n > 100 {
			t.Fatalf("%d buckets after %d keys, want at most 100", n, i+1)
		}
	}
	clk.Advance(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("the bucket did not refill")
	}
	var unlimited *RateLimiter
	if ok, _ := unlimited.Allow("x"); !ok {
		t.Fatal("a nil limiter refuses")
	}
}
