package push

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
	"golang.org/x/time/rate"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/identity"
)

// WebSocket close codes beyond RFC 6455's.
const (
	// CloseUnauthenticated: no valid token, the token expired without
	// renewal, or the player's session was revoked (logout).
	CloseUnauthenticated websocket.StatusCode = 4001
	// CloseTooSlow: the client did not read and its queue filled up.
	CloseTooSlow websocket.StatusCode = 4008
	// CloseTooManyResumes: the client asked to resume more often than
	// Config.ResumeBurst and ResumeEvery allow (4029, after HTTP's 429).
	CloseTooManyResumes websocket.StatusCode = 4029
)

// clientMessage is what a client may send: {"type":"auth","accessToken"}
// first or to renew, {"type":"resume","after"} at any time.
type clientMessage struct {
	Type        string `json:"type"`
	AccessToken string `json:"accessToken,omitempty"`
	After       string `json:"after,omitempty"`
}

// originPatterns turns the CORS origins into coder/websocket's host
// patterns; "*" allows any origin. A request without an Origin header (not
// a browser) is always accepted: it carries its token itself.
func originPatterns(origins []string) ([]string, bool) {
	var out []string
	for _, o := range origins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "*" {
			return nil, true
		}
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			out = append(out, strings.ToLower(u.Host))
		}
	}
	return out, false
}

// wsSession is one player's WebSocket. An open socket holds one
// goroutine, its reader (runWebSocket), which also answers the client's
// messages; the player's events are written by a goroutine started when
// some are queued and gone once they are written (drain), and the
// keep-alive and the token's expiry are timers. mu serialises the writes
// of messages and the state they read.
type wsSession struct {
	h    *Hub
	conn *websocket.Conn

	mu     sync.Mutex
	token  string
	claims identity.Claims
	st     *stream
	expiry clock.Timer // at claims.ExpiresAt, on the injected clock
	// expiresAt is claims.ExpiresAt (Unix ns) for the expiry timer, which
	// must not wait for mu (a write may hold it).
	expiresAt atomic.Int64
	pinger    *time.Timer // the keep-alive, in real time
	// resumes is the socket's budget of resumes: each reads the outbox
	// back, which costs the server far more than the message costs the
	// client, and no per-request limit sees messages on an open socket.
	resumes *rate.Limiter

	draining  atomic.Bool // a drain goroutine is running
	closeOnce sync.Once
}

func (h *Hub) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{OriginPatterns: h.origins, InsecureSkipVerify: h.anyOrig})
	if err != nil {
		return // Accept has answered
	}
	// The socket runs on a goroutine of its own and the handler returns,
	// so net/http lets go of the request, its buffers and its goroutine's
	// grown stack: a held socket keeps only what it uses. It takes from
	// the request its token and resume point, and the context's values
	// (the request's context ends with the handler).
	tok, _ := httpx.BearerToken(r)
	go h.runWebSocket(context.WithoutCancel(r.Context()), conn, tok, r.URL.Query().Get("after"))
}

// runWebSocket serves one player's socket until it closes or the Hub
// stops; tok is the Authorization header's token, if any. It is the
// socket's reader.
func (h *Hub) runWebSocket(ctx context.Context, conn *websocket.Conn, tok, after string) {
	defer conn.CloseNow()
	conn.SetReadLimit(16 << 10)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &wsSession{h: h, conn: conn, resumes: rate.NewLimiter(rate.Every(h.cfg.ResumeEvery), h.cfg.ResumeBurst)}
	if err := s.authenticate(ctx, tok); err != nil {
		s.closeWith(CloseUnauthenticated, reason(err))
		return
	}
	if !h.waitReady(ctx) {
		return
	}
	s.mu.Lock() // the first drain waits for the hello and the resume
	st, closeStream := h.open(s.claims.IdentityID, "websocket", func() { s.wake(ctx) })
	defer closeStream()
	st.out, s.st = s, st
	stopping := context.AfterFunc(h.life, func() { s.closeWith(websocket.StatusGoingAway, "server stopping") })
	defer stopping()
	s.armExpiry(s.claims.ExpiresAt)
	s.pinger = time.AfterFunc(h.cfg.PingInterval, func() { s.keepAlive(ctx) })
	defer func() {
		s.mu.Lock()
		s.expiry.Stop()
		s.pinger.Stop()
		s.mu.Unlock()
	}()
	code, why, stop := websocket.StatusInternalError, "write failed", s.hello(ctx) != nil
	if !stop && after != "" {
		code, why, stop = s.resume(ctx, after)
	}
	s.mu.Unlock()
	if stop {
		s.closeWith(code, why)
		return
	}
	// Each message is answered before the next is read, so a socket has
	// at most one resume in flight; those it sends meanwhile wait in the
	// connection, and its budget is charged as each is read.
	for {
		m, err := readMessage(ctx, conn)
		if err != nil {
			var syntax *json.SyntaxError
			if errors.As(err, &syntax) {
				continue
			}
			return
		}
		s.mu.Lock()
		code, why, stop := s.handle(ctx, m)
		s.mu.Unlock()
		if stop {
			s.closeWith(code, why)
			return
		}
	}
}

// authenticate takes the token from the Authorization header (tok) or,
// for a browser, from an auth message within AuthTimeout (real time).
func (s *wsSession) authenticate(ctx context.Context, tok string) error {
	if tok == "" {
		late := time.AfterFunc(s.h.cfg.AuthTimeout, func() {
			s.closeWith(CloseUnauthenticated, "no auth message within the time allowed")
		})
		m, err := readMessage(ctx, s.conn)
		for errors.As(err, new(*json.SyntaxError)) {
			m, err = readMessage(ctx, s.conn)
		}
		late.Stop()
		if err != nil {
			return err
		}
		if m.Type != "auth" || m.AccessToken == "" {
			return errors.New(`the first message must be {"type":"auth","accessToken":…}`)
		}
		tok = m.AccessToken
	}
	c, err := s.h.cfg.Verifier.Verify(ctx, tok)
	if err != nil {
		return err
	}
	s.token, s.claims = tok, c
	return nil
}

// closeWith closes the socket with code and why; only the first call
// does.
func (s *wsSession) closeWith(code websocket.StatusCode, why string) {
	s.closeOnce.Do(func() { s.conn.Close(code, why) })
}

// wake starts a drain unless one is running (the Hub queued a delivery
// or dropped the client); it never blocks.
func (s *wsSession) wake(ctx context.Context) {
	if s.draining.CompareAndSwap(false, true) {
		go s.drain(ctx)
	}
}

// drain writes the queued deliveries, then ends; a client dropped as too
// slow is closed instead.
func (s *wsSession) drain(ctx context.Context) {
	s.mu.Lock() // held until the stream is set up, hello and resume sent
	c := s.st.c
	s.mu.Unlock()
	for {
		select {
		case <-c.gone:
			s.closeWith(CloseTooSlow, "too many messages unread: the client is not reading")
			return // draining stays set: nothing more is written
		case d := <-c.queue:
			s.mu.Lock()
			err := s.st.deliver(ctx, d)
			s.mu.Unlock()
			if err != nil {
				s.closeWith(websocket.StatusGoingAway, "write failed")
				return
			}
		default:
			s.draining.Store(false)
			// A delivery queued since the select found none, whose wake saw
			// this drain still running, is this drain's to write.
			if len(c.queue) == 0 && !isClosed(c.gone) || !s.draining.CompareAndSwap(false, true) {
				return
			}
		}
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// armExpiry (with mu held) sets the token's expiry at at, replacing the
// one before (a renewed token).
func (s *wsSession) armExpiry(at time.Time) {
	if s.expiry != nil {
		s.expiry.Stop()
	}
	s.expiresAt.Store(at.UnixNano())
	s.expiry = clock.AfterFuncAt(s.h.cfg.Clock, at, func() {
		if s.h.cfg.Clock.Now().Before(time.Unix(0, s.expiresAt.Load())) {
			return // replaced by a later deadline
		}
		// Closing waits for the client's answer: not on the clock's time.
		go s.closeWith(CloseUnauthenticated, "access token expired; reconnect with a fresh one")
	})
}

// keepAlive runs every PingInterval: it verifies the token again (a
// revoked session closes the socket) and pings the client.
func (s *wsSession) keepAlive(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	tok := s.token
	s.mu.Unlock()
	if _, err := s.h.cfg.Verifier.Verify(ctx, tok); err != nil {
		s.closeWith(CloseUnauthenticated, reason(err))
		return
	}
	pctx, cancel := context.WithTimeout(ctx, s.h.cfg.WriteTimeout)
	err := s.conn.Ping(pctx)
	cancel()
	if err != nil {
		s.closeWith(websocket.StatusGoingAway, "write failed")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() == nil {
		s.pinger.Reset(s.h.cfg.PingInterval)
	}
}

func readMessage(ctx context.Context, conn *websocket.Conn) (clientMessage, error) {
	_, b, err := conn.Read(ctx)
	if err != nil {
		return clientMessage{}, err
	}
	var m clientMessage
	return m, json.Unmarshal(b, &m)
}

// handle answers a client's message (with mu held); stop says the socket
// must close.
func (s *wsSession) handle(ctx context.Context, m clientMessage) (websocket.StatusCode, string, bool) {
	switch m.Type {
	case "auth":
		c, err := s.h.cfg.Verifier.Verify(ctx, m.AccessToken)
		if err != nil {
			return CloseUnauthenticated, reason(err), true
		}
		if c.IdentityID != s.claims.IdentityID {
			return CloseUnauthenticated, "a renewed token must be the same player's", true
		}
		s.token, s.claims = m.AccessToken, c
		s.armExpiry(c.ExpiresAt)
		if err := s.hello(ctx); err != nil {
			return websocket.StatusGoingAway, "write failed", true
		}
	case "resume":
		return s.resume(ctx, m.After)
	default:
		if err := s.control(ctx, "error", map[string]string{"type": "error", "message": "unknown message type " + m.Type}); err != nil {
			return websocket.StatusGoingAway, "write failed", true
		}
	}
	return 0, "", false
}

// resume answers a resume (with mu held) if the socket's budget allows
// one; past the budget the socket must close.
func (s *wsSession) resume(ctx context.Context, after string) (websocket.StatusCode, string, bool) {
	if !s.resumes.AllowN(s.h.cfg.Clock.Now(), 1) {
		return CloseTooManyResumes, fmt.Sprintf("too many resumes: %d at once, then one every %s; resume once per connection",
			s.h.cfg.ResumeBurst, s.h.cfg.ResumeEvery), true
	}
	if err := s.st.resume(ctx, after); err != nil {
		return websocket.StatusGoingAway, "resume failed", true
	}
	return 0, "", false
}

func (s *wsSession) hello(ctx context.Context) error {
	return s.control(ctx, "authenticated", authenticated{Type: "authenticated", IdentityID: s.claims.IdentityID, ExpiresAt: s.claims.ExpiresAt.UTC()})
}

func (s *wsSession) message(ctx context.Context, d *delivery) error {
	return s.write(ctx, d.data)
}

func (s *wsSession) control(ctx context.Context, _ string, v any) error {
	return s.write(ctx, mustJSON(v))
}

func (s *wsSession) write(ctx context.Context, b []byte) error {
	wctx, cancel := context.WithTimeout(ctx, s.h.cfg.WriteTimeout)
	defer cancel()
	return s.conn.Write(wctx, websocket.MessageText, b)
}

// reason is an error as a close reason: at most 123 bytes, as RFC 6455
// allows, and never the token.
func reason(err error) string {
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}
