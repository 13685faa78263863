package client

import (
	"testing"
	"time"
)

func TestWhenAnAccessTokenIsDueForRefresh(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name            string
		lifetime, left  time.Duration
		before          time.Duration // WithRefreshBefore; 0 for the default
		due, unknownExp bool
	}{
		{name: "an hour's token with two minutes left", lifetime: time.Hour, left: 2 * time.Minute},
		{name: "an hour's token with 59 s left", lifetime: time.Hour, left: 59 * time.Second, due: true},
		{name: "a minute's token with 30 s left: a fifth of its lifetime is the margin", lifetime: time.Minute, left: 30 * time.Second},
		{name: "a minute's token with 11 s left", lifetime: time.Minute, left: 11 * time.Second, due: true},
		{name: "an expired token", lifetime: time.Hour, left: -time.Second, due: true},
		{name: "a margin the game chose", lifetime: time.Hour, left: 10 * time.Minute, before: 15 * time.Minute, due: true},
		{name: "a restored token of unknown expiry: the server decides", unknownExp: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := New("http://muster.invalid", WithRefreshBefore(c.before))
			cl.lifetime = c.lifetime
			s := Session{AccessToken: "a", RefreshToken: "r", Expires: now.Add(c.left)}
			if c.unknownExp {
				s.Expires = time.Time{}
			}
			if got := cl.refreshDue(s, now); got != c.due {
				t.Fatalf("due = %v, want %v", got, c.due)
			}
		})
	}
}
