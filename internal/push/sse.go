package push

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
)

// StreamTokenLifetime is how long a stream token may wait to be used.
const StreamTokenLifetime = 60 * time.Second

// maxStreamTokens bounds the tokens waiting to be used.
const maxStreamTokens = 100_000

// streamTokens are single-use tokens that let a browser's EventSource,
// which cannot send headers, open GET /v1/events without putting an
// access token in a URL. Only their hashes are kept.
type streamTokens struct {
	clock clock.Clock
	mu    sync.Mutex
	byKey map[[32]byte]streamToken
}

type streamToken struct {
	accessToken string // verified again while the stream is open
	expires     time.Time
}

func newStreamTokens(c clock.Clock) *streamTokens {
	return &streamTokens{clock: c, byKey: map[[32]byte]streamToken{}}
}

func (t *streamTokens) issue(accessToken string) (string, time.Time, error) {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.byKey) >= maxStreamTokens {
		for k, v := range t.byKey {
			if !now.Before(v.expires) {
				delete(t.byKey, k)
			}
		}
		if len(t.byKey) >= maxStreamTokens {
			return "", time.Time{}, fault.New(fault.LimitExceeded, "too many stream tokens waiting to be used; retry shortly")
		}
	}
	tok := "st_" + rand.Text()
	exp := now.Add(StreamTokenLifetime)
	t.byKey[sha256.Sum256([]byte(tok))] = streamToken{accessToken: accessToken, expires: exp}
	return tok, exp, nil
}

// use spends a token: it works once, within its lifetime.
func (t *streamTokens) use(tok string) (string, bool) {
	k := sha256.Sum256([]byte(tok))
	t.mu.Lock()
	st, ok := t.byKey[k]
	delete(t.byKey, k)
	t.mu.Unlock()
	if !ok || !t.clock.Now().Before(st.expires) {
		return "", false
	}
	return st.accessToken, true
}

// issueStreamToken answers POST /v1/events/tokens (after Protect has
// authenticated the bearer token).
func (h *Hub) issueStreamToken(w http.ResponseWriter, r *http.Request) {
	access, _ := httpx.BearerToken(r)
	tok, exp, err := h.tokens.issue(access)
	if err != nil {
		httpx.WriteError(w, r, h.cfg.Logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{"streamToken": tok, "expiresAt": exp.UTC()})
}

// serveEvents answers GET /v1/events: the player's stream as Server-Sent
// Events, authenticated by the Authorization header or ?streamToken=.
func (h *Hub) serveEvents(w http.ResponseWriter, r *http.Request) {
	access, ok := httpx.BearerToken(r)
	if !ok {
		if st := r.URL.Query().Get("streamToken"); st != "" {
			access, ok = h.tokens.use(st)
			if !ok {
				httpx.WriteError(w, r, h.cfg.Logger, fault.New(fault.Unauthenticated, "the stream token is unknown, used or expired; ask POST /v1/events/tokens for another"))
				return
			}
		}
	}
	if !ok {
		httpx.WriteError(w, r, h.cfg.Logger, fault.New(fault.Unauthenticated, "a bearer access token or a stream token (?streamToken=) is required"))
		return
	}
	c, err := h.cfg.Verifier.Verify(r.Context(), access)
	if err != nil {
		httpx.WriteError(w, r, h.cfg.Logger, err)
		return
	}
	if !h.waitReady(r.Context()) {
		return
	}
	after := r.Header.Get("Last-Event-ID")
	if after == "" {
		after = r.URL.Query().Get("after")
	}
	st, closeStream := h.open(c.IdentityID, "sse", nil)
	defer closeStream()
	out := newSSEWriter(w, h.cfg.WriteTimeout)
	defer out.rc.SetWriteDeadline(time.Time{}) // the connection may serve other requests
	st.out = out
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	why := h.sseLoop(r.Context(), st, out, access, c, after)
	out.control(r.Context(), "close", map[string]string{"type": "close", "reason": why})
}

// sseLoop writes the player's events until the stream must end, and says
// why.
func (h *Hub) sseLoop(ctx context.Context, st *stream, out *sseWriter, access string, c identity.Claims, after string) string {
	exp := newExpiry(h, c.ExpiresAt)
	defer exp.close()
	ping := time.NewTicker(h.cfg.PingInterval)
	defer ping.Stop()
	if err := out.comment("connected"); err != nil {
		return "write failed"
	}
	if err := st.resume(ctx, after); err != nil {
		return "resume failed"
	}
	for {
		var err error
		select {
		case <-ctx.Done():
			return "client gone"
		case <-h.done:
			return "server stopping"
		case <-st.c.gone:
			return "too many messages unread: the client is not reading"
		case d := <-st.c.queue:
			err = st.deliver(ctx, d)
		case <-exp.fired:
			if exp.passed() {
				return "access token expired; reconnect with a fresh one"
			}
		case <-ping.C:
			if _, verr := h.cfg.Verifier.Verify(ctx, access); verr != nil {
				return reason(verr)
			}
			err = out.comment("ping")
		}
		if err != nil {
			return "write failed"
		}
	}
}

// sseWriter writes Server-Sent Events, flushing each and bounding each
// write in real time.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func newSSEWriter(w http.ResponseWriter, timeout time.Duration) *sseWriter {
	return &sseWriter{w: w, rc: http.NewResponseController(w), timeout: timeout}
}

func (s *sseWriter) message(_ context.Context, d *delivery) error {
	return s.event(d.id, d.typ, d.data)
}

func (s *sseWriter) control(_ context.Context, typ string, v any) error {
	return s.event("", typ, mustJSON(v))
}

// event writes one event; data is one line of JSON.
func (s *sseWriter) event(id, typ string, data []byte) error {
	var b strings.Builder
	if id != "" {
		fmt.Fprintf(&b, "id: %s\n", id)
	}
	fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", typ, data)
	return s.send(b.String())
}

func (s *sseWriter) comment(text string) error { return s.send(": " + text + "\n\n") }

func (s *sseWriter) send(text string) error {
	s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	if _, err := s.w.Write([]byte(text)); err != nil {
		return err
	}
	return s.rc.Flush()
}
