package push_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/push"
	"github.com/musterhq/muster/internal/store"
)

// A socket's resumes are answered within its budget (the defaults: four,
// its URL's ?after= included, then one every 30 s on the clock); the
// next one closes it with 4029, so an open socket cannot make the server
// read the outbox back without end.
func TestResumeBudget(t *testing.T) {
	resume := func(t *testing.T, c *websocket.Conn, from, missed string) {
		t.Helper()
		writeJSON(t, c, map[string]string{"type": "resume", "after": from})
		expectReplay(t, c, missed)
	}
	t.Run("a socket resuming past its budget is closed with 4029, each resume within it replayed", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		from, missed := e.resumePoint(a)
		c := e.dial(a.AccessToken, "?after="+from)
		hello(t, c)
		expectReplay(t, c, missed)
		for range 3 {
			resume(t, c, from, missed)
		}
		writeJSON(t, c, map[string]string{"type": "resume", "after": from})
		if code, why := closeStatus(t, c); code != push.CloseTooManyResumes || !strings.Contains(why, "too many resumes") {
			t.Fatalf("the fifth resume: close %d %q, want %d too many resumes", code, why, push.CloseTooManyResumes)
		}
	})

	t.Run("the budget earns one more resume every 30 s on the clock", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.signIn()
		from, missed := e.resumePoint(a)
		c := e.dial(a.AccessToken, "")
		hello(t, c)
		for range 4 {
			resume(t, c, from, missed)
		}
		e.clock.Advance(30 * time.Second)
		resume(t, c, from, missed)
		writeJSON(t, c, map[string]string{"type": "resume", "after": from})
		if code, _ := closeStatus(t, c); code != push.CloseTooManyResumes {
			t.Fatalf("the second resume after 30 s: close %d, want %d", code, push.CloseTooManyResumes)
		}
	})
}

// A replay reads at most ReplayLimit outbox events, everyone's: a resume
// point that far back replays, one further back is answered with a reset
// found without reading the events in between.
func TestReplayLimit(t *testing.T) {
	const limit = 10
	t.Run("a socket resuming ReplayLimit events back replays them; one more event back gets a reset", func(t *testing.T) {
		reads := &countingStore{}
		e := newEnv(t, func(c *push.Config) { c.ReplayLimit = limit; reads.wrap(c) })
		a := e.signIn()
		from, mine := e.behind(a, limit)
		before := reads.events.Load()
		c := e.dial(a.AccessToken, "?after="+from)
		hello(t, c)
		expectReplay(t, c, mine...)
		if n := reads.events.Load() - before; n > limit+1 {
			t.Fatalf("a replay of %d events read %d, want the resume point and at most %d", limit, n, limit)
		}
		e.ticketEvent(matchmaking.EventSearching, nil, ticket("theirs", "someone-else"))
		before = reads.events.Load()
		c = e.dial(a.AccessToken, "?after="+from)
		hello(t, c)
		if m := next(t, c); m.Type != "reset" || !strings.Contains(m.Reason, fmt.Sprintf("more than %d events back", limit)) {
			t.Fatalf("resuming %d events back: got %+v, want a reset", limit+1, m)
		}
		// The resume point, and whether any event lies past the limit.
		if n := reads.events.Load() - before; n > 2 {
			t.Fatalf("the reset read %d events, want at most 2", n)
		}
		if got := e.metricLabel("muster_push_resets_total", "stream", "player"); got != 1 {
			t.Errorf("player resets %v, want 1", got)
		}
	})

	t.Run("an event stream resuming further back than ReplayLimit gets a reset", func(t *testing.T) {
		e := newEnv(t, func(c *push.Config) { c.ReplayLimit = limit })
		a := e.signIn()
		from, _ := e.behind(a, limit+2)
		r, closeStream := e.openSSE("/v1/events", map[string]string{"Authorization": "Bearer " + a.AccessToken, "Last-Event-ID": from})
		defer closeStream()
		if ev := r.next(t); ev.event != "reset" || !strings.Contains(ev.data, "events back") {
			t.Fatalf("got %+v, want a reset", ev)
		}
	})
}

// resumePoint commits two of the player's events and returns their ids
// once the Hub has indexed them, so that a resume from the first replays
// the second.
func (e *env) resumePoint(p identity.Tokens) (from, missed string) {
	e.t.Helper()
	from, mine := e.behind(p, 1)
	return from, mine[0]
}

// behind commits one of the player's events, then n more alternating
// with another player's (the player's last), and returns the first's id
// and the player's after it once the Hub has indexed them all.
func (e *env) behind(p identity.Tokens, n int) (from string, mine []string) {
	e.t.Helper()
	w := e.dial(p.AccessToken, "")
	defer w.CloseNow()
	hello(e.t, w)
	from = e.ticketEvent(matchmaking.EventSearching, nil, ticket("t0", p.IdentityID))
	for i := range n {
		if (n-i)%2 == 0 {
			e.ticketEvent(matchmaking.EventSearching, nil, ticket(fmt.Sprintf("theirs%d", i), "someone-else"))
			continue
		}
		mine = append(mine, e.ticketEvent(matchmaking.EventSearching, nil, ticket(fmt.Sprintf("t%d", i+1), p.IdentityID)))
	}
	// The Hub indexes an event before it pushes it: once the last has
	// come live, every id is resumable.
	expectReplay(e.t, w, append([]string{from}, mine...)...)
	return from, mine
}

// expectReplay reads the events ids, in order.
func expectReplay(t *testing.T, c *websocket.Conn, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if m := next(t, c); m.ID != id {
			t.Fatalf("got %+v, want event %s", m, id)
		}
	}
}

// countingStore counts the outbox events the Hub reads through it. The
// Hub follows the outbox through a reader of its own on the store
// underneath, so only the reads of resumes (and of the index at start)
// are counted.
type countingStore struct {
	store.Store
	events atomic.Int64
}

// wrap makes the Hub read through s.
func (s *countingStore) wrap(c *push.Config) {
	s.Store = c.Store
	c.Outbox = outbox.New(outbox.Config{Store: c.Store, Clock: c.Clock})
	c.Store = s
}

func (s *countingStore) View(ctx context.Context, fn func(store.Reader) error) error {
	return s.Store.View(ctx, func(r store.Reader) error { return fn(countingReader{r, s}) })
}

type countingReader struct {
	store.Reader
	s *countingStore
}

func (r countingReader) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	evs, err := r.Reader.Events(ctx, q)
	r.s.events.Add(int64(len(evs)))
	return evs, err
}
