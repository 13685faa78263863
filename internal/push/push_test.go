package push_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/push"
	"github.com/musterhq/muster/internal/store"
)

func TestWebSocket(t *testing.T) {
	t.Run("two players each see only their own tickets, and only their own player session", func(t *testing.T) {
		e := newEnv(t, nil)
		a, b := e.signIn(), e.signIn()
		ca, cb := e.dial(a.AccessToken, ""), e.dial(b.AccessToken, "")
		if m := hello(t, ca); m.IdentityID != a.IdentityID {
			t.Fatalf("authenticated as %s, want %s", m.IdentityID, a.IdentityID)
		}
		hello(t, cb)
		e.ticketEvent(matchmaking.EventSearching, nil, ticket("ta", a.IdentityID))
		e.ticketEvent(matchmaking.EventSearching, nil, ticket("tb", b.IdentityID))
		e.ticketEvent(matchmaking.EventSearching, nil, ticket("other", "someone-else"))
		done := e.ticketEvent(matchmaking.EventSucceeded, map[string]string{a.IdentityID: "psess-a", b.IdentityID: "psess-b"},
			ticket("ta", a.IdentityID), ticket("tb", b.IdentityID))
		for _, c := range []struct {
			conn             *websocket.Conn
			me, mine, theirs string
		}{{ca, a.IdentityID, "ta", "psess-a"}, {cb, b.IdentityID, "tb", "psess-b"}} {
			first := next(t, c.conn)
			if first.Type != matchmaking.EventSearching || first.Ticket == nil || first.Ticket.TicketID != c.mine || first.Ticket.Status != "SEARCHING" || first.Ticket.MatchID != "" {
				t.Fatalf("%s: first message %+v, want its own ticket SEARCHING", c.me, first)
			}
			second := next(t, c.conn)
			if second.ID != done || second.Ticket == nil || second.Ticket.Status != "COMPLETED" || second.Ticket.TicketID != c.mine || second.Ticket.MatchID != "m-1" {
				t.Fatalf("%s: second message %+v, want MatchmakingSucceeded %s of its ticket, in match m-1", c.me, second, done)
			}
			ci := second.Ticket.GameSessionConnectionInfo
			if ci == nil || ci.IPAddress != "10.0.0.7" || ci.DNSName != "game.example" || ci.Port != 7777 ||
				len(ci.MatchedPlayerSessions) != 1 || ci.MatchedPlayerSessions[0].PlayerSessionID != c.theirs || ci.MatchedPlayerSessions[0].PlayerID != c.me {
				t.Fatalf("%s: connection info %+v, want the game's address and only its own player session %s", c.me, ci, c.theirs)
			}
			if len(second.Ticket.Players) != 1 || second.Ticket.Players[0].PlayerID != c.me {
				t.Fatalf("%s: players %+v, want only its own ticket's", c.me, second.Ticket.Players)
			}
		}
	})

	t.Run("a match completed in the transaction that proposed it (STANDALONE) is pushed COMPLETED, not PLACING first", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		ca := e.dial(a.AccessToken, "")
		hello(t, ca)
		before := e.ticketEvent(matchmaking.EventSearching, nil, ticket("ta", a.IdentityID))
		e.append(e.ticketEventOf(matchmaking.EventPotentialMatch, nil, ticket("ta", a.IdentityID)),
			e.ticketEventOf(matchmaking.EventSucceeded, nil, ticket("ta", a.IdentityID)))
		placing := e.ticketEvent(matchmaking.EventPotentialMatch, nil, ticket("tb", a.IdentityID)) // placed: PLACING
		for _, c := range []struct {
			name string
			conn *websocket.Conn
		}{{"live", ca}, {"replayed", e.dial(a.AccessToken, "?after="+before)}} {
			if c.name == "live" {
				if m := next(t, c.conn); m.Ticket == nil || m.Ticket.Status != "SEARCHING" {
					t.Fatalf("%s: first message %+v, want SEARCHING", c.name, m)
				}
			} else {
				hello(t, c.conn)
			}
			if m := next(t, c.conn); m.Ticket == nil || m.Ticket.Status != "COMPLETED" || m.Ticket.TicketID != "ta" {
				t.Fatalf("%s: message %+v (%+v), want ta COMPLETED with no PLACING before it", c.name, m, m.Ticket)
			}
			if m := next(t, c.conn); m.ID != placing || m.Ticket == nil || m.Ticket.Status != "PLACING" {
				t.Fatalf("%s: message %+v, want tb PLACING: a match placed after its proposal is pushed PLACING", c.name, m)
			}
		}
	})

	t.Run("a placement reaches the players it seated with their own session", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		ca := e.dial(a.AccessToken, "")
		hello(t, ca)
		id := e.placementEvent("pl-1", map[string]string{a.IdentityID: "psess-a", "other": "psess-other"})
		m := next(t, ca)
		if m.ID != id || m.Placement == nil || m.Placement.PlayerSessionID != "psess-a" || m.Placement.Port != 7777 || m.Placement.Status != "FULFILLED" {
			t.Fatalf("got %+v (%+v), want the placement with its own session", m, m.Placement)
		}
	})

	t.Run("a browser authenticates with a first message; a wrong one or none is closed with 4001", func(t *testing.T) {
		e := newEnv(t, func(c *push.Config) { c.AuthTimeout = 200 * time.Millisecond })
		a := e.signIn()
		c := e.dial("", "")
		writeJSON(t, c, map[string]string{"type": "auth", "accessToken": a.AccessToken})
		if m := hello(t, c); m.IdentityID != a.IdentityID {
			t.Fatalf("authenticated as %s", m.IdentityID)
		}
		bad := e.dial("", "")
		writeJSON(t, bad, map[string]string{"type": "auth", "accessToken": "not-a-token"})
		if code, _ := closeStatus(t, bad); code != push.CloseUnauthenticated {
			t.Fatalf("bad token: close %d, want 4001", code)
		}
		silent := e.dial("", "")
		if code, why := closeStatus(t, silent); code != push.CloseUnauthenticated || !strings.Contains(why, "auth message") {
			t.Fatalf("no auth message: close %d %q, want 4001 naming the auth message", code, why)
		}
	})

	t.Run("a page from an origin --cors-origins does not allow is refused", func(t *testing.T) {
		e := newEnv(t, nil)
		for origin, want := range map[string]int{"https://game.example": http.StatusSwitchingProtocols, "https://evil.example": http.StatusForbidden} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, resp, _ := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/v1/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
			cancel()
			if resp == nil || resp.StatusCode != want {
				t.Errorf("origin %s: %v, want %d", origin, resp, want)
			}
			if c != nil {
				c.CloseNow()
			}
		}
	})
}

func TestResume(t *testing.T) {
	t.Run("a reconnect with ?after= receives everything missed, in order, then live events", func(t *testing.T) {
		e := newEnv(t, nil)
		a, b := e.signIn(), e.signIn()
		c := e.dial(a.AccessToken, "")
		hello(t, c)
		first := e.ticketEvent(matchmaking.EventSearching, nil, ticket("ta", a.IdentityID))
		if m := next(t, c); m.ID != first {
			t.Fatalf("got %s, want %s", m.ID, first)
		}
		c.CloseNow()
		var missed []string
		for i := range 5 {
			missed = append(missed, e.ticketEvent(matchmaking.EventSearching, nil, ticket(fmt.Sprintf("ta%d", i), a.IdentityID)))
			e.ticketEvent(matchmaking.EventSearching, nil, ticket(fmt.Sprintf("tb%d", i), b.IdentityID))
		}
		c = e.dial(a.AccessToken, "?after="+first)
		hello(t, c)
		for _, want := range missed {
			if m := next(t, c); m.ID != want {
				t.Fatalf("replay: got %s (%s), want %s", m.ID, m.Ticket.TicketID, want)
			}
		}
		live := e.ticketEvent(matchmaking.EventCancelled, nil, ticket("ta", a.IdentityID))
		if m := next(t, c); m.ID != live || m.Ticket.Status != "CANCELLED" {
			t.Fatalf("live: got %+v, want %s CANCELLED", m, live)
		}
		if got := e.metric("muster_push_resumes_total"); got != 1 {
			t.Errorf("resumes served %v, want 1", got)
		}
	})

	t.Run("events committed while the replay runs are neither lost nor sent twice", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		first := e.ticketEvent(matchmaking.EventSearching, nil, ticket("t0", a.IdentityID))
		var want []string
		for i := range 300 {
			want = append(want, e.ticketEvent(matchmaking.EventSearching, nil, ticket(fmt.Sprintf("t%d", i+1), a.IdentityID)))
		}
		c := e.dial(a.AccessToken, "?after="+first)
		hello(t, c)
		go func() {
			for i := range 50 {
				e.ticketEvent(matchmaking.EventSearching, nil, ticket(fmt.Sprintf("late%d", i), a.IdentityID))
			}
		}()
		// The 50 late events may come live, by replay or both: each once.
		seen := map[string]bool{}
		for i := 0; i < len(want)+50; i++ {
			m := next(t, c)
			if seen[m.ID] {
				t.Fatalf("event %s sent twice", m.ID)
			}
			seen[m.ID] = true
			if i < len(want) && m.ID != want[i] {
				t.Fatalf("message %d: %s, want %s", i, m.ID, want[i])
			}
		}
	})

	t.Run("a resume message after live events still sends the events before them", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		first := e.ticketEvent(matchmaking.EventSearching, nil, ticket("t1", a.IdentityID))
		missed := e.ticketEvent(matchmaking.EventSearching, nil, ticket("t2", a.IdentityID))
		c := e.dial(a.AccessToken, "")
		hello(t, c)
		live := e.ticketEvent(matchmaking.EventSearching, nil, ticket("t3", a.IdentityID))
		// The Hub may not have read t1 and t2 before the socket opened:
		// then they come live too, before t3.
		for m := next(t, c); m.ID != live; m = next(t, c) {
			if m.ID != first && m.ID != missed {
				t.Fatalf("live: %s, want %s (after %s or %s, if they came live)", m.ID, live, first, missed)
			}
		}
		writeJSON(t, c, map[string]string{"type": "resume", "after": first})
		for _, want := range []string{missed, live} {
			if m := next(t, c); m.ID != want {
				t.Fatalf("resume: %s, want %s", m.ID, want)
			}
		}
	})

	t.Run("an unknown id is answered with a reset, never a silent gap", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		c := e.dial(a.AccessToken, "?after=no-such-event")
		hello(t, c)
		if m := next(t, c); m.Type != "reset" || m.Reason == "" {
			t.Fatalf("got %+v, want a reset", m)
		}
		if got := e.metric("muster_push_resets_total"); got != 1 {
			t.Errorf("resets sent %v, want 1", got)
		}
	})
}

func TestResumeAfterRestart(t *testing.T) {
	t.Run("a restarted hub resumes from ids it indexed from the outbox", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		first := e.ticketEvent(matchmaking.EventSearching, nil, ticket("t0", a.IdentityID))
		second := e.ticketEvent(matchmaking.EventCancelled, nil, ticket("t0", a.IdentityID))
		// A second Hub over the same store stands for a restarted server.
		h2, err := push.New(push.Config{Base: e.hubBase(), Verifier: e.ids})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go h2.Run(ctx)
		if seq, ok := push.SeqOf(h2, first); !ok || seq == 0 {
			t.Fatalf("the restarted hub does not know %s", first)
		}
		if _, ok := push.SeqOf(h2, second); !ok {
			t.Fatalf("the restarted hub does not know %s", second)
		}
		next, stop := h2.WatchTicket(a.IdentityID, "t-after-start", time.Hour)
		defer stop()
		e.ticketEvent(matchmaking.EventSearching, nil, ticket("t-after-start", a.IdentityID))
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		defer wcancel()
		if !next(wctx) {
			t.Fatal("the restarted hub did not see an event committed after it started")
		}
	})
}

func TestTokens(t *testing.T) {
	t.Run("a token that expires without renewal closes the socket with 4001; a renewed one keeps it open", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		c := e.dial(a.AccessToken, "")
		hello(t, c)
		e.clock.Advance(50 * time.Minute)
		renewed, err := e.ids.Refresh(context.Background(), a.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		writeJSON(t, c, map[string]string{"type": "auth", "accessToken": renewed.AccessToken})
		if m := hello(t, c); m.IdentityID != a.IdentityID {
			t.Fatalf("renewal answered %+v", m)
		}
		e.clock.Advance(20 * time.Minute) // the first token has expired
		id := e.ticketEvent(matchmaking.EventSearching, nil, ticket("ta", a.IdentityID))
		if m := next(t, c); m.ID != id {
			t.Fatalf("after renewal: %+v, want %s", m, id)
		}
		e.clock.Advance(45 * time.Minute) // and now the renewed one
		if code, why := closeStatus(t, c); code != push.CloseUnauthenticated || !strings.Contains(why, "expired") {
			t.Fatalf("close %d %q, want 4001 token expired", code, why)
		}
	})

	t.Run("logout closes the socket with 4001 at the next check", func(t *testing.T) {
		e := newEnv(t, func(c *push.Config) { c.PingInterval = 20 * time.Millisecond })
		a := e.signIn()
		c := e.dial(a.AccessToken, "")
		hello(t, c)
		if err := e.ids.Logout(context.Background(), a.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if code, why := closeStatus(t, c); code != push.CloseUnauthenticated || !strings.Contains(why, "revoked") {
			t.Fatalf("close %d %q, want 4001 revoked", code, why)
		}
	})
}

func TestSlowClient(t *testing.T) {
	t.Run("a client that never reads is dropped while the others receive everything", func(t *testing.T) {
		e := newEnv(t, func(c *push.Config) { c.QueueSize = 64 })
		slow, fast := e.signIn(), e.signIn()
		sc := e.dial(slow.AccessToken, "")
		hello(t, sc) // and never reads again
		fc := e.dial(fast.AccessToken, "")
		hello(t, fc)
		// Big messages, so the slow socket's buffers fill and its queue
		// backs up.
		players := []string{slow.IdentityID, fast.IdentityID}
		for i := range 120 {
			players = append(players, fmt.Sprintf("filler-player-with-a-long-identity-id-%04d", i))
		}
		const n, batch = 3000, 50
		received := make(chan int, n)
		failed := make(chan error, 1)
		go func() {
			for i := range n {
				_, b, err := fc.Read(context.Background())
				var m push.Message
				if err == nil {
					err = json.Unmarshal(b, &m)
				}
				if err != nil || m.Type != matchmaking.EventSearching {
					failed <- fmt.Errorf("message %d (%s): %v", i, m.Type, err)
					return
				}
				received <- i + 1
			}
		}()
		got := 0
		for i := 0; i < n; i += batch {
			var evs []store.Event
			for j := range batch {
				evs = append(evs, e.searchingEvent(fmt.Sprintf("t%d", i+j), players))
			}
			e.append(evs...)
			// The reading client keeps pace with the commits.
			for got < i+batch {
				select {
				case got = <-received:
				case err := <-failed:
					t.Fatal(err)
				case <-time.After(30 * time.Second):
					t.Fatalf("the reading client stopped at %d messages", got)
				}
			}
		}
		if d := e.metric("muster_push_dropped_clients_total"); d != 1 {
			t.Fatalf("dropped clients %v, want 1", d)
		}
	})
}
