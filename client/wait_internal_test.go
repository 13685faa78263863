package client

import (
	"encoding/json"
	"testing"
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
