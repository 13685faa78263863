package push_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/push"
)

func TestServerSentEvents(t *testing.T) {
	t.Run("a stream resumed with Last-Event-ID receives what it missed, then live events", func(t *testing.T) {
		e := newEnv(t, nil)
		a, b := e.signIn(), e.signIn()
		auth := map[string]string{"Authorization": "Bearer " + a.AccessToken}
		r, closeFirst := e.openSSE("/v1/events", auth)
		first := e.ticketEvent(matchmaking.EventSearching, nil, ticket("ta", a.IdentityID))
		ev := r.next(t)
		if ev.id != first || ev.event != matchmaking.EventSearching {
			t.Fatalf("got %+v, want %s", ev, first)
		}
		var m push.Message
		if err := json.Unmarshal([]byte(ev.data), &m); err != nil || m.Ticket == nil || m.Ticket.TicketID != "ta" {
			t.Fatalf("data %s: %v", ev.data, err)
		}
		closeFirst()
		e.ticketEvent(matchmaking.EventSearching, nil, ticket("tb", b.IdentityID))
		missed := e.ticketEvent(matchmaking.EventCancelled, nil, ticket("ta", a.IdentityID))
		auth["Last-Event-ID"] = first
		r, closeSecond := e.openSSE("/v1/events", auth)
		defer closeSecond()
		if ev := r.next(t); ev.id != missed || ev.event != matchmaking.EventCancelled {
			t.Fatalf("resume: got %+v, want %s", ev, missed)
		}
		live := e.ticketEvent(matchmaking.EventSearching, nil, ticket("ta2", a.IdentityID))
		if ev := r.next(t); ev.id != live {
			t.Fatalf("live: got %+v, want %s", ev, live)
		}
	})

	t.Run("a stream token opens one stream, once, within 60 s", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		tok := e.streamToken(a.AccessToken)
		r, closeStream := e.openSSE("/v1/events?streamToken="+tok, nil)
		id := e.ticketEvent(matchmaking.EventSearching, nil, ticket("ta", a.IdentityID))
		if ev := r.next(t); ev.id != id {
			t.Fatalf("got %+v, want %s", ev, id)
		}
		closeStream()
		if resp := e.get("/v1/events?streamToken="+tok, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("second use: %d, want 401", resp.StatusCode)
		}
		late := e.streamToken(a.AccessToken)
		e.clock.Advance(61 * time.Second)
		if resp := e.get("/v1/events?streamToken="+late, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after 61 s: %d, want 401", resp.StatusCode)
		}
		if resp := e.get("/v1/events", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("no credentials: %d, want 401", resp.StatusCode)
		}
	})

	t.Run("a page of an allowed origin may ask for a stream token", func(t *testing.T) {
		e := newEnv(t, nil)
		req, _ := http.NewRequest("OPTIONS", e.url+"/v1/events/tokens", nil)
		req.Header.Set("Origin", "https://game.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "https://game.example" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Fatalf("preflight answered %d %v", resp.StatusCode, resp.Header)
		}
	})

	t.Run("the stream ends when the access token expires", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		r, closeStream := e.openSSE("/v1/events", map[string]string{"Authorization": "Bearer " + a.AccessToken})
		defer closeStream()
		e.clock.Advance(time.Hour)
		if ev := r.next(t); ev.event != "close" || !strings.Contains(ev.data, "expired") {
			t.Fatalf("got %+v, want a close event saying the token expired", ev)
		}
	})
}

// streamToken asks POST /v1/events/tokens for a stream token.
func (e *env) streamToken(access string) string {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url+"/v1/events/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		StreamToken string    `json:"streamToken"`
		ExpiresAt   time.Time `json:"expiresAt"`
	}
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&out) != nil || !strings.HasPrefix(out.StreamToken, "st_") {
		e.t.Fatalf("POST /v1/events/tokens: %d %+v", resp.StatusCode, out)
	}
	if !out.ExpiresAt.Equal(e.clock.Now().Add(push.StreamTokenLifetime)) {
		e.t.Errorf("expiresAt %s, want 60 s from now", out.ExpiresAt)
	}
	return out.StreamToken
}

func TestLongPoll(t *testing.T) {
	t.Run("a watch returns on the ticket's next event, and false at its deadline", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		ctx := context.Background()
		push.SeqOf(e.hub, "") // Run has started following
		next, stop := e.hub.WatchTicket(a.IdentityID, "ta", 20*time.Second)
		defer stop()
		e.ticketEvent(matchmaking.EventSearching, nil, ticket("other", a.IdentityID))
		e.ticketEvent(matchmaking.EventSearching, nil, ticket("ta", a.IdentityID))
		if !next(ctx) {
			t.Fatal("the watch did not see the ticket's event")
		}
		done := make(chan bool)
		go func() { done <- next(ctx) }()
		e.clock.WaitForTimers(1)
		e.clock.Advance(20 * time.Second)
		if <-done {
			t.Fatal("the watch saw an event that was not committed")
		}
	})
}

func TestOperatorStream(t *testing.T) {
	t.Run("events after the cursor are streamed with their sequence numbers as ids", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		e.ticketEvent(matchmaking.EventSearching, nil, ticket("t1", a.IdentityID))
		second := e.ticketEvent(matchmaking.EventCancelled, nil, ticket("t1", a.IdentityID))
		r, closeStream := e.openSSE("/v1/admin/events?type=MatchmakingCancelled", map[string]string{"Accept": "text/event-stream"})
		defer closeStream()
		ev := r.next(t)
		var oe push.OperatorEvent
		if err := json.Unmarshal([]byte(ev.data), &oe); err != nil || oe.ID != second || ev.id == "" || ev.event != matchmaking.EventCancelled {
			t.Fatalf("got %+v (%v), want %s", ev, err, second)
		}
		live := e.ticketEvent(matchmaking.EventCancelled, nil, ticket("t2", a.IdentityID))
		if ev := r.next(t); !strings.Contains(ev.data, live) {
			t.Fatalf("live: got %+v, want %s", ev, live)
		}
		// Resuming after the first event's seq starts with the next one.
		r2, close2 := e.openSSE("/v1/admin/events?type=MatchmakingCancelled", map[string]string{"Accept": "text/event-stream", "Last-Event-ID": ev.id})
		defer close2()
		if ev2 := r2.next(t); !strings.Contains(ev2.data, live) {
			t.Fatalf("resumed: got %+v, want %s", ev2, live)
		}
	})
}
