package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// A COMPLETED ticket of a configuration that places game sessions, as the
// player API renders it (internal/api/playermm). The real servers of this
// package's other tests run STANDALONE configurations, which place none.
const placedTicket = `{"ticketId":"t-1","configurationName":"arena","status":"COMPLETED",
 "startTime":"2026-12-04T10:00:00.000Z","endTime":"2026-12-04T10:00:02.500Z",
 "players":[{"playerId":"ann","team":"red"},{"playerId":"bob","team":"blue"}],
 "gameSessionConnectionInfo":{"gameSessionArn":"arn:aws:gamelift:mu-local-1::gamesession/fleet-1/custom-home/gs-1",
  "ipAddress":"192.0.2.10","dnsName":"","port":7001,
  "matchedPlayerSessions":[{"playerId":"ann","playerSessionId":"psess-a"},{"playerId":"bob","playerSessionId":"psess-b"}]}}`

func TestAMatchIsThePlayersOwnSeat(t *testing.T) {
	var tk Ticket
	if err := json.Unmarshal([]byte(placedTicket), &tk); err != nil {
		t.Fatal(err)
	}
	c := New("http://muster.invalid", WithSession(Session{IdentityID: "bob", RefreshToken: "r"}))
	m, err := c.outcome(&tk)
	if err != nil {
		t.Fatal(err)
	}
	if m.PlayerSessionID != "psess-b" || m.Team != "blue" || m.IPAddress != "192.0.2.10" || m.Port != 7001 ||
		m.Addr() != "192.0.2.10:7001" || m.GameSessionArn == "" || len(m.Players) != 2 {
		t.Fatalf("%+v", m)
	}
	m.DNSName = "gs-1.example.com"
	if m.Addr() != "gs-1.example.com:7001" {
		t.Fatal(m.Addr())
	}
}

func TestWhichFailedReadsWaitTriesAgain(t *testing.T) {
	network := errors.New("connection reset by peer")
	for _, c := range []struct {
		name  string
		err   error
		again bool
		wait  time.Duration
	}{
		{"a network error", network, true, 0},
		{"a proxy's 502", &Error{Status: http.StatusBadGateway}, true, 0},
		{"a proxy's 504", &Error{Status: http.StatusGatewayTimeout}, true, 0},
		{"a 429 for as long as the server asks", &Error{Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second}, true, 2 * time.Second},
		{"a 503", &Error{Status: http.StatusServiceUnavailable}, true, 0},
		{"a 500: a fault of the server, not its absence", &Error{Status: http.StatusInternalServerError}, false, 0},
		{"a 404: the ticket is not the player's", &Error{Status: http.StatusNotFound}, false, 0},
		{"a 401 after the refresh failed", &Error{Status: http.StatusUnauthorized}, false, 0},
		{"signed out", ErrNotSignedIn, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			wait, again := retryable(fmt.Errorf("muster: GET: %w", c.err))
			if again != c.again || wait != c.wait {
				t.Fatalf("retryable = %v, %v; want %v, %v", wait, again, c.wait, c.again)
			}
		})
	}
}

func TestTheBackoffDoublesUpToItsCapWithJitter(t *testing.T) {
	for _, c := range []struct {
		name     string
		opts     []Option
		failures int
		want     time.Duration // the pause is between half of it and all of it
	}{
		{"the first failure: the default minimum", nil, 0, DefaultRetryMin},
		{"the third failure in a row: doubled twice", nil, 2, 4 * DefaultRetryMin},
		{"the sixth: capped at the default maximum", nil, 6, DefaultRetryMax},
		{"the thousandth: still capped", nil, 1000, DefaultRetryMax},
		{"bounds the game chose", []Option{WithRetryBackoff(time.Millisecond, 5*time.Millisecond)}, 3, 5 * time.Millisecond},
		{"a maximum below the minimum is the minimum", []Option{WithRetryBackoff(time.Second, time.Millisecond)}, 3, time.Second},
		{"a bound <= 0 is its default", []Option{WithRetryBackoff(0, -1)}, 1, 2 * DefaultRetryMin},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := New("http://muster.invalid", c.opts...)
			seen := map[time.Duration]bool{}
			for range 50 {
				d := cl.backoff(c.failures)
				if d < c.want/2 || d > c.want {
					t.Fatalf("backoff(%d) = %v, want between %v and %v", c.failures, d, c.want/2, c.want)
				}
				seen[d] = true
			}
			if len(seen) < 2 {
				t.Fatalf("50 pauses of %v: no jitter", seen)
			}
		})
	}
}

func TestWhenAStreamRenewsItsToken(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name           string
		lifetime, left time.Duration
		before         time.Duration // WithRefreshBefore; 0 for the default
		at             time.Duration // after now
	}{
		{"an hour's token: a minute before it expires", time.Hour, time.Hour, 0, 59 * time.Minute},
		{"a minute's token: a fifth of its lifetime before", time.Minute, time.Minute, 0, 48 * time.Second},
		{"a margin the game chose", time.Hour, time.Hour, 15 * time.Minute, 45 * time.Minute},
		{"a margin longer than the token's life: halfway, not at once", time.Hour, time.Hour, 24 * time.Hour, 30 * time.Minute},
		{"a token already due: halfway through what is left", time.Hour, 40 * time.Second, 0, 20 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := New("http://muster.invalid", WithRefreshBefore(c.before))
			cl.lifetime = c.lifetime
			if got := cl.renewAt(now.Add(c.left), now); !got.Equal(now.Add(c.at)) {
				t.Fatalf("renewAt = now+%v, want now+%v", got.Sub(now), c.at)
			}
		})
	}
}

func TestEachProposalIsOfferedOnce(t *testing.T) {
	read := func(status string) sighting { return sighting{t: &Ticket{Status: status}, read: true} }
	push := func(status string, marks ...mark) sighting { return sighting{t: &Ticket{Status: status}, marks: marks} }
	readIn := func(match string) sighting {
		return sighting{t: &Ticket{Status: StatusRequiresAcceptance, MatchID: match}, read: true}
	}
	pushIn := func(match string, marks ...mark) sighting {
		return sighting{t: &Ticket{Status: StatusRequiresAcceptance, MatchID: match}, marks: marks}
	}
	const (
		searching = StatusSearching
		acc       = StatusRequiresAcceptance
	)
	for _, c := range []struct {
		name   string
		seen   []sighting
		offers int
	}{
		{"a proposal pushed", []sighting{read(searching), push(acc, proposed)}, 1},
		{"a proposal read", []sighting{read(acc)}, 1},
		{"others' answers to the same proposal", []sighting{push(acc, proposed), push(acc), push(acc)}, 1},
		{"a read then the push that made the proposal it showed, delivered late",
			[]sighting{read(acc), push(searching), push(acc, proposed)}, 1},
		{"a failed round is not offered", []sighting{push(acc, proposed), push(acc, settled)}, 1},
		{"a failed round and the next proposal, pushed while the game answered the first",
			[]sighting{push(acc, proposed), push(acc, settled, proposed)}, 2},
		{"the same, with a state between", []sighting{push(acc, proposed), push(acc, settled), push(searching), push(acc, proposed)}, 2},
		{"a failed round and the next before a read", []sighting{push(acc, proposed), {t: &Ticket{Status: acc}, read: true, marks: []mark{settled, proposed}}}, 2},
		{"polled: searching between two proposals", []sighting{read(acc), read(searching), read(acc)}, 2},
		{"polled: the same proposal read twice", []sighting{read(acc), read(acc)}, 1},
		{"a proposal made and ended before a read that shows neither", []sighting{read(searching), push(searching, proposed, settled)}, 0},
		{"accepted by all", []sighting{push(acc, proposed), push(StatusPlacing, settled), push(StatusCompleted)}, 1},
		{"polled: two proposals in a row the server names", []sighting{readIn("m1"), readIn("m2")}, 2},
		{"polled: one proposal the server names, read twice", []sighting{readIn("m1"), readIn("m1")}, 1},
		{"a named proposal read, then the push that made it, delivered late", []sighting{readIn("m1"), pushIn("m1", proposed)}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var o offers
			n := 0
			for _, s := range c.seen {
				if o.due(s) {
					n++
				}
			}
			if n != c.offers {
				t.Fatalf("%d offers, want %d", n, c.offers)
			}
		})
	}
}
