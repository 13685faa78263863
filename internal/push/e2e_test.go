package push_test

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/push"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/testenv"
)

// The seed's flow with push through the real binary: `muster serve`, a
// real `muster agent` running the arena game server, a 1v1 configuration
// placing on a queue; two players sign in, open /v1/ws, start tickets,
// each receives MatchmakingSucceeded with the game's address and its own
// player session (no other player's), and joins the game server with it.
func TestEndToEndPushThenJoin(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs muster, an agent and arena")
	}
	s := testenv.Start(t, testenv.WithArgs("--sdk-listen", "127.0.0.1:0"))
	ctx := context.Background()
	fleetID, _ := s.StartArenaFleet(t, testenv.ArenaFleet{Name: "arena", Processes: 1, Locations: []string{"custom-push"}})
	if err := testenv.CreateMatchmaking(ctx, s.Admin(), testenv.Matchmaking{Name: "duel", Rules: oneVOne, FleetID: fleetID}); err != nil {
		t.Fatal(err)
	}
	if res, body, err := s.Bearer(ctx, "PUT", "/v1/admin/matchmaking/configurations/duel/player-access", `{"allowed":true}`); err != nil || res.StatusCode != 200 {
		t.Fatalf("player-access: %v %s", err, body)
	}
	m := &muster{t: t, url: s.URL()}
	type player struct {
		signedIn
		conn   *websocket.Conn
		ticket string
	}
	var ps []*player
	for range 2 {
		p := &player{signedIn: m.signIn()}
		c, err := dialWS(s.URL(), p.AccessToken, "")
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		hello(t, c)
		p.conn = c
		ps = append(ps, p)
	}
	for _, p := range ps {
		p.ticket = m.startTicket(p.signedIn, "duel").TicketID
	}
	seen := map[string]bool{}
	for _, p := range ps {
		msg, pl, reserved := untilSucceeded(t, p.conn)
		ci := msg.Ticket.GameSessionConnectionInfo
		if msg.Ticket.TicketID != p.ticket || ci == nil || ci.IPAddress != "127.0.0.1" || ci.Port == 0 || len(ci.MatchedPlayerSessions) != 1 ||
			ci.MatchedPlayerSessions[0].PlayerID != p.IdentityID || ci.MatchedPlayerSessions[0].PlayerSessionID == "" {
			b, _ := json.Marshal(msg)
			t.Fatalf("%s received %s, want its ticket with the game's address and only its own player session", p.IdentityID, b)
		}
		session := ci.MatchedPlayerSessions[0].PlayerSessionID
		if pl == nil || pl.PlayerSessionID != session || pl.Port != ci.Port {
			t.Fatalf("%s: placement %+v before MatchmakingSucceeded, want one with its player session %s", p.IdentityID, pl, session)
		}
		if got := reserved[session]; got == nil || got.PlayerID != p.IdentityID || got.Status != "RESERVED" {
			t.Fatalf("%s: player session events %v before MatchmakingSucceeded, want its own %s reserved", p.IdentityID, reserved, session)
		}
		if seen[session] {
			t.Fatalf("both players were given player session %s", session)
		}
		seen[session] = true
		addr := net.JoinHostPort(ci.IPAddress, strconv.Itoa(int(ci.Port)))
		if got := joinGame(t, addr, session); !strings.HasPrefix(got, "WELCOME") {
			t.Fatalf("%s's JOIN answered %q", p.IdentityID, got)
		}
	}
}

// untilSucceeded reads a socket's messages, each about a ticket, a
// placement or the player's own player session, until
// MatchmakingSucceeded; it returns that, the placement and the player
// sessions (by id) received before it.
func untilSucceeded(t *testing.T, c *websocket.Conn) (wsMessage, *push.Placement, map[string]*session.PlayerSessionEvent) {
	t.Helper()
	var pl *push.Placement
	sessions := map[string]*session.PlayerSessionEvent{}
	for {
		m := next(t, c)
		switch {
		case m.Placement != nil:
			pl = m.Placement
		case m.PlayerSession != nil:
			sessions[m.PlayerSession.PlayerSessionID] = m.PlayerSession
		case m.Ticket == nil:
			t.Fatalf("message %+v is about neither a ticket, a placement nor a player session", m)
		case m.Type == matchmaking.EventSucceeded:
			return m, pl, sessions
		}
	}
}

// joinGame joins the arena game server with a player session, retrying
// while the game session is still activating; it returns the answer.
func joinGame(t *testing.T, addr, playerSessionID string) string {
	t.Helper()
	var last string
	testenv.Eventually(t, "the game server to let the player in", 20*time.Second, func() bool {
		p, err := testenv.DialArena(addr, playerSessionID)
		if err != nil {
			last = err.Error()
			return false
		}
		t.Cleanup(func() { p.Conn.Close() })
		last = p.First
		return strings.HasPrefix(last, "WELCOME")
	})
	return last
}
