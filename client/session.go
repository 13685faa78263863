package client

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// ErrNotSignedIn is returned by calls that need a player when the client
// has no session: sign in first, or start it WithSession.
var ErrNotSignedIn = errors.New("muster: not signed in")

// Session is a signed-in player's tokens. A game saves it (as JSON, say)
// to sign the player in again on its next run without asking them; only
// the refresh token must be kept secret and current (see OnSessionChange).
type Session struct {
	// IdentityID is the player's identity: their player id in tickets.
	IdentityID string `json:"identityId"`
	// AccessToken is the short-lived JWT sent with every call.
	AccessToken string `json:"accessToken,omitempty"`
	// RefreshToken is exchanged for new tokens; each is single-use.
	RefreshToken string `json:"refreshToken"`
	// Expires is when the access token expires.
	Expires time.Time `json:"expires,omitzero"`
}

// tokens is the body of every sign-in and refresh answer.
type tokens struct {
	IdentityID   string `json:"identityId"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int    `json:"expiresIn"`
}

// Session returns the player's current session (the zero Session when
// signed out).
func (c *Client) Session() Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// IdentityID is the signed-in player's identity id ("" when signed out).
func (c *Client) IdentityID() string { return c.Session().IdentityID }

// SignInAnonymous signs in as a new anonymous identity. Each call makes
// another identity: a game that wants the same player back on this device
// uses SignInDevice, or saves the Session.
func (c *Client) SignInAnonymous(ctx context.Context) (Session, error) {
	return c.signIn(ctx, "/v1/identity/anonymous", struct{}{})
}

// SignInDevice signs in as the identity bound to deviceID, making it on
// the first call. deviceSecret is a random string of 16 to 256 printable
// characters the game generates once and keeps on the device; a later call
// with another secret is refused with 401.
func (c *Client) SignInDevice(ctx context.Context, deviceID, deviceSecret string) (Session, error) {
	return c.signIn(ctx, "/v1/identity/anonymous", map[string]string{"deviceId": deviceID, "deviceSecret": deviceSecret})
}

// SignInOIDC signs in with an ID token issued by the OpenID Connect
// provider the operator configured under the name provider (the game
// obtains the token from the provider's own sign-in flow). The provider's
// subject maps to the same identity every time.
func (c *Client) SignInOIDC(ctx context.Context, provider, idToken string) (Session, error) {
	return c.signIn(ctx, "/v1/identity/oidc", map[string]string{"provider": provider, "idToken": idToken})
}

func (c *Client) signIn(ctx context.Context, path string, body any) (Session, error) {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	var t tokens
	asked := time.Now()
	if err := c.call(ctx, request{method: http.MethodPost, path: path, in: body, out: &t}); err != nil {
		return Session{}, err
	}
	return c.keep(t, asked), nil
}

// Refresh exchanges the refresh token for new tokens now. Calls refresh by
// themselves when the access token is due, so games need this only to
// check that a restored session is still valid. A refused refresh token
// (the session was revoked, or the token was spent) is a 401 *Error and
// signs the client out.
func (c *Client) Refresh(ctx context.Context) (Session, error) {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	return c.exchange(ctx)
}

// Logout revokes the session on the server (its refresh token and its
// access tokens) and signs the client out.
func (c *Client) Logout(ctx context.Context) error {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	s := c.Session()
	if s.RefreshToken == "" {
		return ErrNotSignedIn
	}
	err := c.call(ctx, request{method: http.MethodPost, path: "/v1/identity/logout", in: refreshBody{s.RefreshToken}})
	var e *Error
	if err == nil || errors.As(err, &e) && e.Status == http.StatusUnauthorized {
		c.forget()
	}
	return err
}

type refreshBody struct {
	RefreshToken string `json:"refreshToken"`
}

// exchange spends the refresh token; the caller holds refreshMu.
func (c *Client) exchange(ctx context.Context) (Session, error) {
	s := c.Session()
	if s.RefreshToken == "" {
		return Session{}, ErrNotSignedIn
	}
	var t tokens
	asked := time.Now()
	err := c.call(ctx, request{method: http.MethodPost, path: "/v1/identity/token", in: refreshBody{s.RefreshToken}, out: &t})
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
		c.forget()
	}
	if err != nil {
		return Session{}, err
	}
	return c.keep(t, asked), nil
}

// keep makes t, asked for at asked, the session; the caller holds
// refreshMu, so listeners see sessions in the order they were issued. The
// token's lifetime counts from the question, not the answer: the server
// issued it in between, so the client never thinks it valid for longer
// than it is.
func (c *Client) keep(t tokens, asked time.Time) Session {
	s := Session{IdentityID: t.IdentityID, AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
		Expires: asked.Add(time.Duration(t.ExpiresIn) * time.Second)}
	c.mu.Lock()
	c.sess, c.lifetime = s, time.Duration(t.ExpiresIn)*time.Second
	c.changedLocked()
	c.mu.Unlock()
	if c.onSession != nil {
		c.onSession(s)
	}
	return s
}

// forget signs the client out; the caller holds refreshMu.
func (c *Client) forget() {
	c.mu.Lock()
	c.sess = Session{}
	c.changedLocked()
	c.mu.Unlock()
	if c.onSession != nil {
		c.onSession(Session{})
	}
}

// sessionChanged returns a channel closed at the next change of the
// session.
func (c *Client) sessionChanged() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.changed
}

// changedLocked wakes whoever waits for a change of the session; the
// caller holds mu.
func (c *Client) changedLocked() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// accessToken returns an access token to send, refreshing it first when
// it is due.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	s := c.Session()
	switch {
	case s.AccessToken == "" && s.RefreshToken == "":
		return "", ErrNotSignedIn
	case s.RefreshToken == "" || s.AccessToken != "" && !c.refreshDue(s, time.Now()):
		return s.AccessToken, nil
	}
	return c.refreshStale(ctx, s.AccessToken)
}

// refreshStale replaces the access token stale, unless another goroutine
// did while this one waited for refreshMu.
func (c *Client) refreshStale(ctx context.Context, stale string) (string, error) {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	if s := c.Session(); s.AccessToken != stale && s.AccessToken != "" {
		return s.AccessToken, nil
	}
	s, err := c.exchange(ctx)
	return s.AccessToken, err
}

// refreshDue reports whether s's access token is close enough to expiry to
// be replaced before use: a token that expires in flight is refused.
func (c *Client) refreshDue(s Session, now time.Time) bool {
	if s.Expires.IsZero() {
		return false // unknown: the server's 401 decides
	}
	return s.Expires.Sub(now) < c.refreshMargin()
}

// refreshMargin is how long before its expiry an access token is replaced.
func (c *Client) refreshMargin() time.Duration {
	if c.refreshBefore != 0 {
		return c.refreshBefore
	}
	c.mu.Lock()
	lifetime := c.lifetime
	c.mu.Unlock()
	if lifetime > 0 {
		return min(time.Minute, lifetime/5)
	}
	return time.Minute
}

// renewAt is when an event stream renews its access token, which expires
// at exp: when a call would refresh it, but not before half its remaining
// life, so that a margin longer than the tokens' lifetime
// (WithRefreshBefore) does not renew without end.
func (c *Client) renewAt(exp, now time.Time) time.Time {
	at := exp.Add(-c.refreshMargin())
	if half := now.Add(exp.Sub(now) / 2); at.Before(half) {
		return half
	}
	return at
}
