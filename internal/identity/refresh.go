package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/ids"
	"github.com/musterhq/muster/internal/store"
)

// A session is one sign-in: a chain of refresh tokens, each used once to
// get the next. Only the SHA-256 of a refresh token is stored. Presenting a
// refresh token that was already exchanged means two parties hold the
// chain, so the whole session is revoked (its refresh tokens and, through
// the revoked-session list, its access tokens).
const (
	kindSession      = "session"
	kindRefreshToken = "refreshtoken"
)

// Events written to the outbox about sessions.
const (
	EventRefreshTokenReused = "RefreshTokenReused"
)

// MaxRefreshTokenLen bounds what Refresh and Logout accept.
const MaxRefreshTokenLen = 256

// MaxSessionsPerIdentity is how many live sessions an identity may have. A
// sign-in that would make one more ends the identity's oldest, so that
// signing in again and again cannot grow the store (and the work of
// revocation and reload) without bound. 32 leaves room for a player's
// devices and a game's own retries.
const MaxSessionsPerIdentity = 32

// sessionKeys are the secondary keys of a live session. Key 1 is the
// identity on every session, as sessions have always been written. Key 2
// is the identity only while the session is live: revoking it writes key 1
// alone, and an expired record is not found, so looking sessions up by key
// 2 lists an identity's live sessions, oldest first (session ids are
// UUIDv7s, which grow with time), without reading its revoked ones. A
// session written before key 2 existed gets it at its next exchange.
func sessionKeys(identityID string) store.Keys { return store.Keys{identityID, identityID} }

type sessionDoc struct {
	SessionID   string    `json:"sessionId"`
	IdentityID  string    `json:"identityId"`
	Method      string    `json:"method"`
	CreatedAt   time.Time `json:"createdAt"`
	RefreshedAt time.Time `json:"refreshedAt"`
	// Current is the hash of the one refresh token that may be exchanged.
	Current string `json:"current"`
	// Previous is the hash of the token exchanged last, at RefreshedAt:
	// it may be exchanged once more within refreshRetryGrace, since the
	// answer to its exchange may have been lost on the way to the client.
	Previous     string    `json:"previous,omitempty"`
	RevokedAt    time.Time `json:"revokedAt,omitzero"`
	RevokeReason string    `json:"revokeReason,omitempty"`
}

type refreshDoc struct {
	SessionID string    `json:"sessionId"`
	IssuedAt  time.Time `json:"issuedAt"`
}

// Tokens is what a sign-in or a refresh hands the client.
type Tokens struct {
	IdentityID   string
	AccessToken  string
	RefreshToken string
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int
	// Created is true when the sign-in made a new identity.
	Created bool
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// sessionExpiry is when a session written at now (started, or refreshed
// at now) expires, and with it its current refresh token.
func (s *Service) sessionExpiry(now time.Time) time.Time {
	return now.Add(s.cfg.RefreshTokenLifetime)
}

// startSession writes a new session for identityID inside w and returns
// its id and first refresh token, ending the identity's oldest live
// session if the new one would exceed MaxSessionsPerIdentity and keeping
// an identity that expires with its sessions until the new one expires.
func (s *Service) startSession(ctx context.Context, w store.Writer, identityID, method string, now time.Time) (string, string, error) {
	if err := s.endOldestSessions(ctx, w, identityID, now); err != nil {
		return "", "", err
	}
	rt := rand.Text() + rand.Text()
	exp := s.sessionExpiry(now)
	doc := sessionDoc{SessionID: ids.UUID(), IdentityID: identityID, Method: method, CreatedAt: now, RefreshedAt: now, Current: hashToken(rt)}
	if _, err := w.Put(ctx, store.Record{Kind: kindSession, ID: doc.SessionID, Doc: store.MustJSON(doc), Keys: sessionKeys(identityID), ExpiresAt: exp}); err != nil {
		return "", "", err
	}
	if _, err := w.Put(ctx, store.Record{Kind: kindRefreshToken, ID: doc.Current, Doc: store.MustJSON(refreshDoc{SessionID: doc.SessionID, IssuedAt: now}), ExpiresAt: exp}); err != nil {
		return "", "", err
	}
	if err := keepIdentity(ctx, w, identityID, method, exp); err != nil {
		return "", "", err
	}
	return doc.SessionID, rt, nil
}

// endOldestSessions ends, inside w, the oldest live sessions of identityID
// that one more would put over MaxSessionsPerIdentity. There may be more
// than one: a session written before key 2 existed joins the count at its
// next exchange.
func (s *Service) endOldestSessions(ctx context.Context, w store.Writer, identityID string, now time.Time) error {
	var live []string
	q := store.Query{Kind: kindSession, Key: 2, Value: identityID, NoDocs: true}
	err := store.Walk(ctx, w, q, func(it store.Item) error {
		live = append(live, it.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("sessions of identity %s: %w", identityID, err)
	}
	for _, sid := range live[:max(0, len(live)-MaxSessionsPerIdentity+1)] {
		if err := s.evictSession(ctx, w, sid, now); err != nil {
			return fmt.Errorf("end session %s of identity %s: %w", sid, identityID, err)
		}
	}
	return nil
}

// evictSession ends session sid inside w to make room for a new one. Its
// access tokens are revoked as at logout (rememberRevoked): refused here at
// once, on other replicas from their next reload. Its records are deleted
// rather than kept revoked, or each sign-in past the cap would still leave
// one behind for a refresh-token lifetime; a refresh token of the session
// then names no session and is refused like any unknown token.
func (s *Service) evictSession(ctx context.Context, w store.Writer, sid string, now time.Time) error {
	sess, version, err := store.GetJSON[sessionDoc](ctx, w, kindSession, sid)
	if err != nil {
		return err
	}
	if err := w.Delete(ctx, kindSession, sid, version); err != nil {
		return err
	}
	for _, h := range []string{sess.Current, sess.Previous} {
		if h == "" {
			continue
		}
		// A token may be gone already: it expires on its own.
		if err := store.Forget(ctx, w, kindRefreshToken, h); err != nil {
			return err
		}
	}
	return s.rememberRevoked(ctx, w, sid, now)
}

// finish signs the access token of a session that was just committed.
func (s *Service) finish(identityID, sid, refresh string, created bool) (Tokens, error) {
	at, _, err := s.IssueAccessToken(identityID, sid)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{IdentityID: identityID, AccessToken: at, RefreshToken: refresh,
		ExpiresIn: int(s.cfg.AccessTokenLifetime / time.Second), Created: created}, nil
}

var errBadRefresh = errors.New("refresh token is not valid")

// refreshRetryGrace is how long after an exchange the token it spent may be
// exchanged once more: a client whose answer was lost (a dropped mobile
// connection, a cancelled request the server had already committed) holds
// only the spent token, and retrying it must not end its session. Any
// other spent token, or this one later or twice, is reuse: the session is
// revoked.
const refreshRetryGrace = time.Minute

// Refresh exchanges a refresh token for a new access token and a new
// refresh token; the old one is spent. Reusing a spent refresh token revokes
// the session, except one retry of the last exchange within
// refreshRetryGrace.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	if refreshToken == "" || len(refreshToken) > MaxRefreshTokenLen {
		return Tokens{}, unauthenticated("%v", errBadRefresh)
	}
	h := hashToken(refreshToken)
	now := s.cfg.Clock.Now().UTC()
	if err := s.gateExchange(ctx, h, now); err != nil {
		return Tokens{}, err
	}
	var sess sessionDoc
	var next string
	var reused bool
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		reused, next = false, ""
		var version int64
		var err error
		sess, version, err = s.sessionOf(ctx, w, h)
		if err != nil {
			return err
		}
		prev, ok := exchangeable(sess, h, now)
		if !ok {
			reused = true
			return s.revokeSession(ctx, w, sess, version, "refresh token reuse", now)
		}
		next, err = s.rotate(ctx, w, sess, version, prev, now)
		return err
	})
	switch {
	case err != nil && fault.KindOf(err) == fault.Unauthenticated:
		return Tokens{}, err
	case errors.Is(err, store.ErrConflict):
		// Another exchange of the same token won the race: that is reuse.
		return Tokens{}, unauthenticated("refresh token was exchanged concurrently; sign in again")
	case err != nil:
		return Tokens{}, fmt.Errorf("refresh: %w", err)
	case reused:
		s.cfg.Logger.Warn("a spent refresh token was presented; the session is revoked", "identity_id", sess.IdentityID, "session_id", sess.SessionID)
		return Tokens{}, unauthenticated("refresh token was already used; the session is revoked, sign in again")
	}
	return s.finish(sess.IdentityID, sess.SessionID, next, false)
}

// rotate exchanges, inside w, the refresh token of session sess (read at
// version) for the next, which it returns: the session keeps prev as
// Previous and expires, with the next token and an identity that expires
// with its sessions, one lifetime from now.
func (s *Service) rotate(ctx context.Context, w store.Writer, sess sessionDoc, version int64, prev string, now time.Time) (string, error) {
	next := rand.Text() + rand.Text()
	sess.Current, sess.Previous, sess.RefreshedAt = hashToken(next), prev, now
	exp := s.sessionExpiry(now)
	if _, err := w.Put(ctx, store.Record{Kind: kindSession, ID: sess.SessionID, Doc: store.MustJSON(sess), Keys: sessionKeys(sess.IdentityID), Version: version, ExpiresAt: exp}); err != nil {
		return "", err
	}
	if _, err := w.Put(ctx, store.Record{Kind: kindRefreshToken, ID: sess.Current, Doc: store.MustJSON(refreshDoc{SessionID: sess.SessionID, IssuedAt: now}), ExpiresAt: exp}); err != nil {
		return "", err
	}
	if err := keepIdentity(ctx, w, sess.IdentityID, sess.Method, exp); err != nil {
		return "", err
	}
	return next, nil
}

// exchangeable says whether the refresh token hashed h may be exchanged in
// its session at now, and what the session keeps as Previous after the
// exchange. Any other token of the session is reuse.
func exchangeable(sess sessionDoc, h string, now time.Time) (prev string, ok bool) {
	switch {
	case sess.Current == h:
		return h, true
	case sess.Previous == h && now.Sub(sess.RefreshedAt) < refreshRetryGrace:
		// A retry of the last exchange: the token it issued is spent in
		// turn (one that shows up later revokes), and this one may not be
		// retried again.
		return "", true
	}
	return "", false
}

// gateExchange asks the SignInGate about a refresh only once its token is
// one the exchange would accept, so that no one can make the server call
// the studio's hooks with a token they do not hold: a token that names no
// live session is refused here, and a spent one is left to the exchange,
// which revokes its session whatever the gate would have said (a gate
// that cannot decide must not keep a replayed token from being noticed).
// The exchange checks the token again, as another may have spent it
// meanwhile.
func (s *Service) gateExchange(ctx context.Context, h string, now time.Time) error {
	if s.cfg.Gate == nil {
		return nil
	}
	var ok bool
	var sess sessionDoc
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		var err error
		sess, _, err = s.sessionOf(ctx, r, h)
		_, ok = exchangeable(sess, h, now)
		return err
	})
	switch {
	case err != nil && fault.KindOf(err) == fault.Unauthenticated:
		return err
	case err != nil:
		return fmt.Errorf("refresh: %w", err)
	case !ok:
		return nil
	}
	return s.gateRefresh(ctx, sess)
}

// Logout revokes the session the refresh token belongs to: its refresh
// tokens at once, its access tokens on this replica at once and on others
// within RefreshInterval.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	if refreshToken == "" || len(refreshToken) > MaxRefreshTokenLen {
		return unauthenticated("%v", errBadRefresh)
	}
	h := hashToken(refreshToken)
	now := s.cfg.Clock.Now().UTC()
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		sess, version, err := s.sessionOf(ctx, w, h)
		if err != nil {
			return err
		}
		return s.revokeSession(ctx, w, sess, version, "logout", now)
	})
	if err != nil && fault.KindOf(err) != fault.Unauthenticated {
		return fmt.Errorf("logout: %w", err)
	}
	return err
}

// sessionOf finds the live session of a refresh token hash.
func (s *Service) sessionOf(ctx context.Context, r store.Reader, h string) (sessionDoc, int64, error) {
	rt, _, err := store.GetJSON[refreshDoc](ctx, r, kindRefreshToken, h)
	if errors.Is(err, store.ErrNotFound) {
		return sessionDoc{}, 0, unauthenticated("%v", errBadRefresh)
	}
	if err != nil {
		return sessionDoc{}, 0, err
	}
	sess, version, err := store.GetJSON[sessionDoc](ctx, r, kindSession, rt.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return sessionDoc{}, 0, unauthenticated("%v", errBadRefresh)
	}
	if err != nil {
		return sessionDoc{}, 0, err
	}
	if !sess.RevokedAt.IsZero() {
		return sessionDoc{}, 0, unauthenticated("the session was revoked (%s); sign in again", sess.RevokeReason)
	}
	return sess, version, nil
}

func (s *Service) revokeSession(ctx context.Context, w store.Writer, sess sessionDoc, version int64, reason string, now time.Time) error {
	sess.RevokedAt, sess.RevokeReason = now, reason
	// Kept (revoked) until the refresh token would have expired, so a later
	// reuse still finds it and is refused; key 1 alone takes it out of the
	// identity's live sessions (sessionKeys). A revoked session leads no one
	// back to its identity, so it does not keep the identity (keepIdentity).
	if _, err := w.Put(ctx, store.Record{Kind: kindSession, ID: sess.SessionID, Doc: store.MustJSON(sess), Keys: store.Keys{sess.IdentityID},
		Version: version, ExpiresAt: now.Add(s.cfg.RefreshTokenLifetime)}); err != nil {
		return err
	}
	if err := s.rememberRevoked(ctx, w, sess.SessionID, now); err != nil {
		return err
	}
	if reason != "logout" {
		return w.Append(ctx, store.Event{Type: EventRefreshTokenReused, Resource: sess.IdentityID, Time: now,
			Doc: store.MustJSON(map[string]string{"identityId": sess.IdentityID, "sessionId": sess.SessionID})})
	}
	return nil
}
