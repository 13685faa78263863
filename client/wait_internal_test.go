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
		name     string
		err      error
		failures int
		again    bool
		wait     time.Duration
	}{
		{"a network error", network, 0, true, 0},
		{"a network error after as many as Wait rides out", network, maxTransient, false, 0},
		{"a proxy's 502", &Error{Status: http.StatusBadGateway}, 1, true, 0},
		{"a 429 for as long as the server asks", &Error{Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second}, 50, true, 2 * time.Second},
		{"a 503", &Error{Status: http.StatusServiceUnavailable}, 50, true, 0},
		{"a 404: the ticket is not the player's", &Error{Status: http.StatusNotFound}, 0, false, 0},
		{"a 401 after the refresh failed", &Error{Status: http.StatusUnauthorized}, 0, false, 0},
		{"signed out", ErrNotSignedIn, 0, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			wait, again := retryable(fmt.Errorf("muster: GET: %w", c.err), c.failures)
			if again != c.again || wait != c.wait {
				t.Fatalf("retryable = %v, %v; want %v, %v", wait, again, c.wait, c.again)
			}
		})
	}
}
