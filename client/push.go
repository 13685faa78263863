package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// openTimeout bounds opening the event stream, greeting included.
const openTimeout = 10 * time.Second

// maxOpens is how many times one Wait opens the event stream before it
// polls instead: the server closes a stream whose access token expired,
// and a client too slow to read.
const maxOpens = 3

// safetyReads is how many poll intervals a followed ticket may go without
// an event before Wait reads it anyway.
const safetyReads = 20

// pushWatcher follows a ticket over the player's event stream (GET /v1/ws,
// a WebSocket). Wait reads the ticket once the stream is open, so no
// change can fall between the read and the stream; FindMatch opens the
// stream before the ticket exists and needs no read. After that, each
// message about the ticket carries it in the shape a read returns, and
// only a final state other than COMPLETED, a reset (the server lost
// events) or a long silence reads it again. Where the stream cannot be
// opened (a server that does not push, a proxy that refuses WebSockets),
// or keeps dropping, polling carries on.
type pushWatcher struct {
	c *Client
	// id is the ticket followed: set before next is first called (FindMatch
	// opens the stream before the ticket has an id).
	id    string
	opens int
	conn  *websocket.Conn
	inbox *inbox        // what the stream pushed, for next to take
	dead  chan struct{} // the stream ended
	poll  *poller       // once the stream is given up
}

func (w *pushWatcher) next(ctx context.Context) (*Ticket, error) {
	switch {
	case w.poll != nil:
		return w.poll.next(ctx)
	case w.conn == nil:
		return w.reopen(ctx)
	}
	// A read now and then even without events bounds what an event the
	// server never sent could cost.
	safety := time.NewTimer(safetyReads * w.c.poll)
	defer safety.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-w.dead:
			return w.reopen(ctx)
		case <-w.inbox.wake:
			t, reset := w.inbox.take(w.id)
			switch {
			case reset:
			case t == nil:
				continue // about another of the player's tickets
			case !t.Terminal() || t.Status == StatusCompleted:
				// A COMPLETED push carries the connection info and the
				// player's seat, all a Match is made of.
				return t, nil
			}
			// Another final state is read once more: the read is the
			// ticket's own record (a rejected ticket's reason is REJECTED,
			// where the event's is Cancelled).
		case <-safety.C:
		}
		return w.c.fetch(ctx, w.id, w.pause)
	}
}

// reopen opens the stream and reads the ticket, or hands over to polling.
func (w *pushWatcher) reopen(ctx context.Context) (*Ticket, error) {
	if err := w.open(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		w.poll = w.c.poller(w.id)
		return w.poll.next(ctx)
	}
	return w.c.fetch(ctx, w.id, w.pause)
}

// open opens the stream and waits for the server's greeting: the server
// subscribes the stream before it greets, so from then on every event
// about the player's tickets arrives.
func (w *pushWatcher) open(ctx context.Context) error {
	w.shut()
	if w.opens >= maxOpens {
		return fmt.Errorf("muster: event stream opened %d times", w.opens)
	}
	w.opens++
	token, err := w.c.accessToken(ctx)
	if err != nil {
		return err
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	h := http.Header{"Authorization": {"Bearer " + token}, "User-Agent": {w.c.agent}}
	conn, _, err := websocket.Dial(octx, streamURL(w.c.endpoint), &websocket.DialOptions{HTTPClient: w.c.http, HTTPHeader: h})
	if err != nil {
		return err
	}
	if err := readGreeting(octx, conn); err != nil {
		conn.CloseNow()
		return fmt.Errorf("muster: event stream: no greeting: %w", err)
	}
	w.conn, w.inbox, w.dead = conn, newInbox(), make(chan struct{})
	go listen(conn, w.inbox, w.dead)
	return nil
}

// listen reads the stream until it ends, putting each message about a
// ticket, and each reset (events were lost: read again), in the inbox.
func listen(conn *websocket.Conn, in *inbox, dead chan<- struct{}) {
	defer close(dead)
	for {
		_, b, err := conn.Read(context.Background())
		if err != nil {
			return
		}
		var m struct {
			Type   string  `json:"type"`
			Ticket *Ticket `json:"ticket"`
		}
		switch {
		case json.Unmarshal(b, &m) != nil:
		case m.Type == "reset":
			in.put(nil)
		case m.Ticket != nil:
			in.put(m.Ticket)
		}
	}
}

// inbox holds what the stream pushed since the watcher last looked: the
// latest state of each ticket (the ticket as it is now) and whether a
// reset asked for a read. It is keyed by ticket because a stream opened
// before its ticket was started cannot yet tell which messages matter.
type inbox struct {
	mu     sync.Mutex
	latest map[string]*Ticket
	reset  bool
	wake   chan struct{} // signalled after each put
}

func newInbox() *inbox {
	return &inbox{latest: map[string]*Ticket{}, wake: make(chan struct{}, 1)}
}

// put keeps t, or a reset for nil, and wakes the watcher.
func (in *inbox) put(t *Ticket) {
	in.mu.Lock()
	if t == nil {
		in.reset = true
	} else {
		in.latest[t.TicketID] = t
	}
	in.mu.Unlock()
	select {
	case in.wake <- struct{}{}:
	default: // already signalled
	}
}

// take returns the latest pushed state of ticket id (nil if none came)
// and whether a reset came, and empties the inbox: states of the player's
// other tickets do not concern this watcher.
func (in *inbox) take(id string) (*Ticket, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	t, reset := in.latest[id], in.reset
	clear(in.latest)
	in.reset = false
	return t, reset
}

// pause waits between failed reads of the ticket.
func (w *pushWatcher) pause(ctx context.Context, d time.Duration) error {
	return sleep(ctx, max(d, w.c.poll))
}

// shut closes the stream, if open, and waits for its reader to stop.
func (w *pushWatcher) shut() {
	if w.conn != nil {
		w.conn.CloseNow()
		<-w.dead
		w.conn = nil
	}
}

func (w *pushWatcher) close() {
	w.shut()
	if w.poll != nil {
		w.poll.close()
	}
}

// streamURL is the event stream's WebSocket URL for an http(s) endpoint.
func streamURL(endpoint string) string {
	if rest, ok := strings.CutPrefix(endpoint, "http"); ok {
		endpoint = "ws" + rest // http → ws, https → wss
	}
	return endpoint + "/v1/ws"
}

// readGreeting reads the stream's first message, which must say the
// connection is authenticated.
func readGreeting(ctx context.Context, conn *websocket.Conn) error {
	_, b, err := conn.Read(ctx)
	if err != nil {
		return err
	}
	var hello struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &hello); err != nil {
		return fmt.Errorf("first message is not JSON: %w", err)
	}
	if hello.Type != "authenticated" {
		return fmt.Errorf("first message is of type %q, want \"authenticated\"", hello.Type)
	}
	return nil
}
