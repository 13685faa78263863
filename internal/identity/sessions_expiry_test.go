package identity_test

import (
	"errors"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/store"
)

// sessionExpiry returns when the store drops the session of accessToken
// (zero once it is gone or expired).
func sessionExpiry(t *testing.T, e *env, svc *identity.Service, accessToken string) time.Time {
	t.Helper()
	c, err := svc.Verify(ctx, accessToken)
	if err != nil {
		t.Fatal(err)
	}
	var exp time.Time
	err = e.db.View(ctx, func(r store.Reader) error {
		it, err := r.Get(ctx, "session", c.SessionID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		exp = it.ExpiresAt
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// guestWithLifetime signs a guest in (anonymous, no device) on an env
// whose refresh tokens last lifetime.
func guestWithLifetime(t *testing.T, lifetime time.Duration) (*env, identity.Tokens) {
	t.Helper()
	e := newEnv(t, func(c *identity.Config) { c.RefreshTokenLifetime = lifetime })
	tok, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return e, tok
}

func TestSessionRecordsExpireAtTheRefreshLifetimeWhichAnExchangeExtends(t *testing.T) {
	const lifetime = 30 * 24 * time.Hour
	e, first := guestWithLifetime(t, lifetime)
	if got := sessionExpiry(t, e, e.svc, first.AccessToken); !got.Equal(t0.Add(lifetime)) {
		t.Fatalf("a new session expires at %v, want %v", got, t0.Add(lifetime))
	}
	e.clk.Advance(10 * 24 * time.Hour)
	second, err := e.svc.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	want := t0.Add(10*24*time.Hour + lifetime)
	if got := sessionExpiry(t, e, e.svc, second.AccessToken); !got.Equal(want) {
		t.Fatalf("after an exchange the session expires at %v, want %v", got, want)
	}

	// Past its lifetime, the session is no longer in the store: the token
	// is refused and no session of the identity is found.
	e.clk.Set(want)
	_, err = e.svc.Refresh(ctx, second.RefreshToken)
	wantUnauthenticated(t, err)
	err = e.db.View(ctx, func(r store.Reader) error {
		items, err := r.Find(ctx, store.Query{Kind: "session", Key: 1, Value: first.IdentityID})
		if err == nil && len(items) > 0 {
			t.Errorf("%d sessions found past their refresh lifetime", len(items))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
