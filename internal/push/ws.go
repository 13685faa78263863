package push

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/musterhq/muster/internal/identity"
)

// WebSocket close codes beyond RFC 6455's.
const (
	// CloseUnauthenticated: no valid token, the token expired without
	// renewal, or the player's session was revoked (logout).
	CloseUnauthenticated websocket.StatusCode = 4001
	// CloseTooSlow: the client did not read and its queue filled up.
	CloseTooSlow websocket.StatusCode = 4008
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

// wsSession is one player's WebSocket.
type wsSession struct {
	h      *Hub
	conn   *websocket.Conn
	token  string
	claims identity.Claims
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
	tok, _ := bearer(r)
	go h.runWebSocket(context.WithoutCancel(r.Context()), conn, tok, r.URL.Query().Get("after"))
}

// runWebSocket serves one player's socket until it closes or the Hub
// stops; tok is the Authorization header's token, if any.
func (h *Hub) runWebSocket(ctx context.Context, conn *websocket.Conn, tok, after string) {
	defer conn.CloseNow()
	conn.SetReadLimit(16 << 10)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &wsSession{h: h, conn: conn}
	msgs := make(chan clientMessage)
	go s.read(ctx, cancel, msgs)
	if err := s.authenticate(ctx, tok, msgs); err != nil {
		conn.Close(CloseUnauthenticated, reason(err))
		return
	}
	if !h.waitReady(ctx) {
		return
	}
	st, closeStream := h.open(s.claims.IdentityID, "websocket")
	defer closeStream()
	st.out = s
	code, why := s.loop(ctx, st, after, msgs)
	conn.Close(code, why)
}

// authenticate takes the token from the Authorization header (tok) or,
// for a browser, from an auth message within AuthTimeout (real time).
func (s *wsSession) authenticate(ctx context.Context, tok string, msgs <-chan clientMessage) error {
	if tok == "" {
		t := time.NewTimer(s.h.cfg.AuthTimeout)
		defer t.Stop()
		select {
		case m := <-msgs:
			if m.Type != "auth" || m.AccessToken == "" {
				return errors.New(`the first message must be {"type":"auth","accessToken":…}`)
			}
			tok = m.AccessToken
		case <-t.C:
			return errors.New("no auth message within the time allowed")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c, err := s.h.cfg.Verifier.Verify(ctx, tok)
	if err != nil {
		return err
	}
	s.token, s.claims = tok, c
	return nil
}

// read passes the client's messages to the loop until the socket closes;
// then it ends ctx.
func (s *wsSession) read(ctx context.Context, cancel func(), out chan<- clientMessage) {
	defer cancel()
	for {
		m, err := readMessage(ctx, s.conn)
		if err != nil {
			var syntax *json.SyntaxError
			if errors.As(err, &syntax) {
				continue
			}
			return
		}
		select {
		case out <- m:
		case <-ctx.Done():
			return
		}
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

// loop writes the player's messages until the socket must close, and
// returns the close code and reason.
func (s *wsSession) loop(ctx context.Context, st *stream, after string, msgs <-chan clientMessage) (websocket.StatusCode, string) {
	exp := newExpiry(s.h, s.claims.ExpiresAt)
	defer exp.close()
	ping := time.NewTicker(s.h.cfg.PingInterval)
	defer ping.Stop()
	if err := s.hello(ctx); err != nil {
		return websocket.StatusInternalError, "write failed"
	}
	if err := st.resume(ctx, after); err != nil {
		return websocket.StatusInternalError, "resume failed"
	}
	for {
		var err error
		select {
		case <-ctx.Done():
			return websocket.StatusNormalClosure, ""
		case <-s.h.done:
			return websocket.StatusGoingAway, "server stopping"
		case <-st.c.gone:
			return CloseTooSlow, "too many messages unread: the client is not reading"
		case d := <-st.c.queue:
			err = st.deliver(ctx, d)
		case m := <-msgs:
			if code, why, stop := s.handle(ctx, st, exp, m); stop {
				return code, why
			}
		case <-exp.fired:
			if exp.passed() {
				return CloseUnauthenticated, "access token expired; reconnect with a fresh one"
			}
		case <-ping.C:
			if _, verr := s.h.cfg.Verifier.Verify(ctx, s.token); verr != nil {
				return CloseUnauthenticated, reason(verr)
			}
			pctx, cancel := context.WithTimeout(ctx, s.h.cfg.WriteTimeout)
			err = s.conn.Ping(pctx)
			cancel()
		}
		if err != nil {
			return websocket.StatusGoingAway, "write failed"
		}
	}
}

// handle answers a client's message; stop says the socket must close.
func (s *wsSession) handle(ctx context.Context, st *stream, exp *expiry, m clientMessage) (websocket.StatusCode, string, bool) {
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
		exp.rearm(c.ExpiresAt)
		if err := s.hello(ctx); err != nil {
			return websocket.StatusGoingAway, "write failed", true
		}
	case "resume":
		if err := st.resume(ctx, m.After); err != nil {
			return websocket.StatusGoingAway, "resume failed", true
		}
	default:
		if err := s.control(ctx, "error", map[string]string{"type": "error", "message": "unknown message type " + m.Type}); err != nil {
			return websocket.StatusGoingAway, "write failed", true
		}
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

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	tok := strings.TrimSpace(h[len(p):])
	return tok, tok != ""
}
