package httpx

import (
	"net/netip"
	"testing"
)

// TestTheConnectionCapCountsAnIPv6Slash64AsOneClient: connections from
// two addresses of one /64 count against one cap; IPv4 addresses keep a
// cap each.
func TestTheConnectionCapCountsAnIPv6Slash64AsOneClient(t *testing.T) {
	l := NewLimiter("main", Limits{MaxConnsPerClient: 1}, nil)
	admit := func(addr string) bool {
		_, ok := l.admit(netip.MustParseAddr(addr), true)
		return ok
	}
	if !admit("2001:db8::1") {
		t.Fatal("the first IPv6 connection was refused")
	}
	if admit("2001:db8::2") {
		t.Fatal("another address of the same /64 was admitted past the cap")
	}
	if !admit("2001:db8:0:1::1") {
		t.Fatal("an address of another /64 was refused")
	}
	if !admit("203.0.113.1") || !admit("203.0.113.2") {
		t.Fatal("two IPv4 addresses do not have a cap each")
	}
	l.release(netip.MustParseAddr("2001:db8::1"), true)
	if !admit("2001:db8::2") {
		t.Fatal("the /64's slot was not given back when its connection closed")
	}
}
