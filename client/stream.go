package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// openTimeout bounds opening the event stream, greeting included, and
// one write on it.
const openTimeout = 10 * time.Second

// closeUnauthenticated is the close code of a stream whose access token
// the server refused, or saw expire without renewal (GET /v1/ws).
const closeUnauthenticated websocket.StatusCode = 4001

// errNoStream says the server answered the stream's handshake with a
// refusal another try would get too: a server without the stream, a
// proxy that refuses WebSockets.
var errNoStream = errors.New("muster: no event stream here")

// staleTokenError is a stream the server refused for its access token.
type staleTokenError struct {
	token string
	err   error
}

func (e *staleTokenError) Error() string {
	return "muster: event stream: the access token was refused: " + e.err.Error()
}

func (e *staleTokenError) Unwrap() error { return e.err }

// stream is one open event stream (GET /v1/ws, a WebSocket). Two
// goroutines serve it until close: listen reads it into the inbox, and
// keep renews its access token before the server would close it and
// drops it once it falls silent (a half-open connection).
type stream struct {
	c     *Client
	conn  *websocket.Conn
	inbox *inbox
	born  time.Time
	heard atomic.Int64 // when a frame last came, as time since born

	// mu guards token: the access token the server holds for the stream.
	mu    sync.Mutex
	token string

	code    websocket.StatusCode // why it closed: set before dead closes
	dead    chan struct{}        // listen returned
	stop    context.CancelFunc   // ends keep
	stopped chan struct{}        // keep returned
}

// openStream opens the event stream and waits for the server's greeting:
// the server subscribes the stream before it greets, so from then on
// every event about the player's tickets arrives, and, when after is the
// id of the last message a stream before it delivered, every event since
// that one, replayed. stale, when set, is an access token the server
// refused, replaced first. A token refused at the greeting (the server's
// clock ahead of this machine's, a restart with new keys) is replaced and
// the stream opened once more.
func (c *Client) openStream(ctx context.Context, stale, after string) (*stream, error) {
	s, err := c.dialStream(ctx, stale, after)
	var st *staleTokenError
	if stale == "" && errors.As(err, &st) {
		return c.dialStream(ctx, st.token, after)
	}
	return s, err
}

func (c *Client) dialStream(ctx context.Context, stale, after string) (*stream, error) {
	token, err := c.streamToken(ctx, stale)
	if err != nil {
		return nil, err
	}
	s := &stream{c: c, token: token, inbox: newInbox(), born: time.Now(), dead: make(chan struct{}), stopped: make(chan struct{})}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	conn, res, err := websocket.Dial(octx, streamURL(c.endpoint, after), &websocket.DialOptions{HTTPClient: c.http,
		HTTPHeader: http.Header{"Authorization": {"Bearer " + token}, "User-Agent": {c.agent}},
		// The server's pings are the stream's sign of life between events.
		OnPingReceived: func(context.Context, []byte) bool { s.hear(); return true },
		OnPongReceived: func(context.Context, []byte) { s.hear() }})
	switch {
	case err == nil:
	case res != nil && res.StatusCode == http.StatusUnauthorized:
		return nil, &staleTokenError{token, err}
	case refused(res):
		return nil, fmt.Errorf("%w (%s): %w", errNoStream, res.Status, err)
	default:
		return nil, fmt.Errorf("muster: event stream: %w", err)
	}
	if err := readGreeting(octx, conn); err != nil {
		conn.CloseNow()
		if websocket.CloseStatus(err) == closeUnauthenticated {
			return nil, &staleTokenError{token, err}
		}
		return nil, fmt.Errorf("muster: event stream: no greeting: %w", err)
	}
	s.conn = conn
	s.hear()
	kctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.listen()
	go s.keep(kctx)
	return s, nil
}

// streamToken is the access token to open the stream with: a fresh one
// when the server refused stale.
func (c *Client) streamToken(ctx context.Context, stale string) (string, error) {
	if stale != "" {
		return c.refreshStale(ctx, stale)
	}
	return c.accessToken(ctx)
}

// refused reports whether an answer to the stream's handshake refuses
// the stream for good: a client error other than a token's (401), a
// timeout (408) or a limit (429). A server error is an outage.
func refused(res *http.Response) bool {
	if res == nil {
		return false
	}
	switch res.StatusCode {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return res.StatusCode < 500
}

// listen reads the stream until it ends, putting each message about a
// ticket, and each reset (events were lost: read again), in the inbox.
func (s *stream) listen() {
	defer close(s.dead)
	for {
		_, b, err := s.conn.Read(context.Background())
		if err != nil {
			s.code = websocket.CloseStatus(err)
			return
		}
		s.hear()
		var m struct {
			ID     string  `json:"id"`
			Type   string  `json:"type"`
			Ticket *Ticket `json:"ticket"`
		}
		switch {
		case json.Unmarshal(b, &m) != nil:
		case m.Type == "reset":
			s.inbox.reset()
		case m.Ticket != nil:
			s.inbox.put(m.ID, m.Ticket, markOf(m.Type, m.Ticket))
		}
	}
}

// markOf is the mark a message of type typ leaves on the proposals of t.
func markOf(typ string, t *Ticket) mark {
	switch {
	case typ == "PotentialMatchCreated" && t.Status == StatusRequiresAcceptance:
		return proposed
	case typ == "AcceptMatchCompleted":
		return settled
	}
	return 0
}

// keep renews the stream's access token before the server would close
// the stream for it, and as soon as the client's session has a new one;
// it drops the stream once silent for longer than WithStreamSilence.
func (s *stream) keep(ctx context.Context) {
	defer close(s.stopped)
	var due time.Time // when to refresh the token; zero: to be worked out
	for {
		changed := s.c.sessionChanged()
		sess := s.c.Session()
		if sess.AccessToken != "" && sess.AccessToken != s.current() {
			if err := s.renew(ctx, sess.AccessToken); err != nil {
				s.conn.CloseNow() // opened again with the new token
				return
			}
			due = time.Time{}
		}
		if due.IsZero() && !sess.Expires.IsZero() {
			due = s.c.renewAt(sess.Expires, time.Now())
		}
		if !s.wait(ctx, changed, due) {
			return
		}
		if !due.IsZero() && !time.Now().Before(due) {
			due = time.Now().Add(s.c.retryMax) // unless the refresh works
			if _, err := s.c.refreshStale(ctx, s.current()); err == nil {
				due = time.Time{} // the next pass hands the new token over
			}
		}
		if !s.alive(ctx) {
			s.conn.CloseNow()
			return
		}
	}
}

// wait waits for the session to change, the token to be due (when due is
// not zero) or the next look at the stream's silence; false when the
// stream is closing or closed.
func (s *stream) wait(ctx context.Context, changed <-chan struct{}, due time.Time) bool {
	d := s.untilLook()
	if !due.IsZero() {
		d = min(d, time.Until(due))
	}
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-s.dead:
		return false
	case <-changed:
	case <-t.C:
	}
	return true
}

// untilLook is how long until the stream has been silent for long enough
// to be pinged, or, already so, to be dropped.
func (s *stream) untilLook() time.Duration {
	silent := s.silent()
	if probe := s.c.silence * 2 / 3; silent < probe {
		return probe - silent
	}
	return s.c.silence - silent
}

// alive reports whether the stream may still be heard: a stream silent
// for two thirds of WithStreamSilence is pinged, and one silent for all of
// it is dead. The ping lets a bound shorter than the server's own pings
// keep a healthy stream.
func (s *stream) alive(ctx context.Context) bool {
	silent := s.silent()
	switch {
	case silent >= s.c.silence:
		return false
	case silent < s.c.silence*2/3:
		return true
	}
	pctx, cancel := context.WithTimeout(ctx, s.c.silence-silent)
	defer cancel()
	if err := s.conn.Ping(pctx); err != nil {
		return ctx.Err() != nil // closing anyway: keep's wait sees it
	}
	s.hear()
	return true
}

// renew hands the server a new access token for the stream, as GET /v1/ws
// asks a client to before its token expires.
func (s *stream) renew(ctx context.Context, token string) error {
	b, err := json.Marshal(struct {
		Type        string `json:"type"`
		AccessToken string `json:"accessToken"`
	}{"auth", token})
	if err != nil {
		return fmt.Errorf("muster: event stream: renew the access token: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := s.conn.Write(wctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("muster: event stream: renew the access token: %w", err)
	}
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
	return nil
}

// current is the access token the server holds for the stream.
func (s *stream) current() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// hear notes a sign of life from the server.
func (s *stream) hear() { s.heard.Store(int64(time.Since(s.born))) }

// silent is how long since the server was last heard.
func (s *stream) silent() time.Duration {
	return time.Since(s.born) - time.Duration(s.heard.Load())
}

// close closes the stream and waits for its goroutines to stop.
func (s *stream) close() {
	s.stop()
	s.conn.CloseNow()
	<-s.dead
	<-s.stopped
}

// maxMarks is how many proposal marks of one ticket the inbox keeps
// between two looks; beyond it the oldest are dropped and a read asked
// for.
const maxMarks = 64

// inbox holds what the stream pushed since the watcher last looked: the
// latest state of each ticket, with the marks its messages left on
// proposals in the order they came, whether a reset asked for a read, and
// the id of the last message, to resume from. States collapse to the
// latest, but marks do not, so that a proposal that failed and the next
// one, both while the game was answering the first, are told apart. It is
// keyed by ticket because a stream opened before its ticket was started
// cannot yet tell which messages matter.
type inbox struct {
	mu     sync.Mutex
	pushed map[string]*sighting
	lost   bool // a reset came: events were lost
	last   string
	wake   chan struct{} // signalled after each put
}

func newInbox() *inbox {
	return &inbox{pushed: map[string]*sighting{}, wake: make(chan struct{}, 1)}
}

// put keeps t, pushed in message id with mark m, and wakes the watcher.
func (in *inbox) put(id string, t *Ticket, m mark) {
	in.mu.Lock()
	p := in.pushed[t.TicketID]
	if p == nil {
		p = &sighting{}
		in.pushed[t.TicketID] = p
	}
	p.t = t
	if m != 0 {
		p.marks = append(p.marks, m)
		if len(p.marks) > maxMarks {
			p.marks, in.lost = p.marks[len(p.marks)-maxMarks:], true
		}
	}
	if id != "" {
		in.last = id
	}
	in.mu.Unlock()
	in.signal()
}

// reset asks for a read: the server lost events.
func (in *inbox) reset() {
	in.mu.Lock()
	in.lost = true
	in.mu.Unlock()
	in.signal()
}

func (in *inbox) signal() {
	select {
	case in.wake <- struct{}{}:
	default: // already signalled
	}
}

// take returns what was pushed about ticket id (nil if nothing), whether
// a reset came, and the last message's id, and empties the inbox: states
// of the player's other tickets do not concern this watcher.
func (in *inbox) take(id string) (*sighting, bool, string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	p, reset := in.pushed[id], in.lost
	clear(in.pushed)
	in.lost = false
	return p, reset, in.last
}

// streamURL is the event stream's WebSocket URL for an http(s) endpoint,
// resuming after the message id after when it is set.
func streamURL(endpoint, after string) string {
	if rest, ok := strings.CutPrefix(endpoint, "http"); ok {
		endpoint = "ws" + rest // http → ws, https → wss
	}
	if after != "" {
		return endpoint + "/v1/ws?after=" + url.QueryEscape(after)
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
