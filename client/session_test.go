package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/client"
	"github.com/musterhq/muster/internal/identity/identitytest"
	"github.com/musterhq/muster/internal/testenv"
)

// status is the HTTP status of an *client.Error, 0 for any other error.
func status(err error) int {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

func signedIn(t *testing.T, opts ...client.Option) *client.Client {
	t.Helper()
	c := client.New(endpoint, opts...)
	if _, err := c.SignInAnonymous(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAnonymousSignInAndRefreshRotation(t *testing.T) {
	ctx := context.Background()
	c := client.New(endpoint)
	if _, err := c.Me(ctx); !errors.Is(err, client.ErrNotSignedIn) {
		t.Fatalf("a call before sign-in: %v", err)
	}
	first, err := c.SignInAnonymous(ctx)
	if err != nil || first.IdentityID == "" || first.AccessToken == "" || first.RefreshToken == "" || time.Until(first.Expires) < time.Minute {
		t.Fatalf("%v %+v", err, first)
	}
	t.Run("each anonymous sign-in is a new identity", func(t *testing.T) {
		if other := signedIn(t); other.IdentityID() == first.IdentityID {
			t.Fatal("two anonymous sign-ins share an identity")
		}
	})
	t.Run("a refreshed client keeps working with new tokens", func(t *testing.T) {
		next, err := c.Refresh(ctx)
		if err != nil || next.RefreshToken == first.RefreshToken || next.IdentityID != first.IdentityID {
			t.Fatalf("%v %+v", err, next)
		}
		me, err := c.Me(ctx)
		if err != nil || me.IdentityID != first.IdentityID || me.Version != 0 {
			t.Fatalf("%v %+v", err, me)
		}
	})
	t.Run("the spent refresh token is refused, and its reuse revokes the session", func(t *testing.T) {
		// Another exchange since: the first token is no longer the last
		// one exchanged, whose lost answer the server lets be retried.
		if _, err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		thief := client.New(endpoint, client.WithSession(client.Session{IdentityID: first.IdentityID, RefreshToken: first.RefreshToken}))
		if _, err := thief.Refresh(ctx); status(err) != http.StatusUnauthorized {
			t.Fatalf("the old refresh token: %v", err)
		}
		if thief.Session() != (client.Session{}) {
			t.Fatal("a refused refresh token left the client signed in")
		}
		if _, err := c.Me(ctx); status(err) != http.StatusUnauthorized {
			t.Fatalf("the session still works after its refresh token was reused: %v", err)
		}
	})
}

func TestTokensAreRefreshedByThemselves(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var saved []client.Session
	// Refreshing a day ahead makes every call's token due.
	c := signedIn(t, client.WithRefreshBefore(24*time.Hour), client.OnSessionChange(func(s client.Session) {
		mu.Lock()
		defer mu.Unlock()
		saved = append(saved, s)
	}))
	t.Run("calls that find their token due replace it, one exchange at a time", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				_, err := c.Me(ctx)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil { // two exchanges of one refresh token would revoke the session
				t.Fatal(err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		// A call that waited while another refreshed uses that one's new
		// token: between one and eight exchanges, however the calls
		// interleave.
		if len(saved) < 2 || len(saved) > 9 || saved[len(saved)-1] != c.Session() {
			t.Fatalf("%d sessions seen (sign-in and 1 to 8 refreshes wanted), the client has %+v", len(saved), c.Session())
		}
	})
	t.Run("a saved session signs the player in again", func(t *testing.T) {
		b, err := json.Marshal(c.Session())
		if err != nil {
			t.Fatal(err)
		}
		var s client.Session
		now := c.Session()
		if err := json.Unmarshal(b, &s); err != nil || s.RefreshToken != now.RefreshToken || s.AccessToken != now.AccessToken || !s.Expires.Equal(now.Expires) {
			t.Fatalf("%v: %+v", err, s)
		}
		// Only the refresh token kept: the first call exchanges it.
		again := client.New(endpoint, client.WithSession(client.Session{IdentityID: s.IdentityID, RefreshToken: s.RefreshToken}))
		me, err := again.Me(ctx)
		if err != nil || me.IdentityID != s.IdentityID || again.Session().RefreshToken == s.RefreshToken {
			t.Fatalf("%v %+v", err, me)
		}
	})
	t.Run("an access token the server refuses is refreshed once and the call retried", func(t *testing.T) {
		s := signedIn(t).Session()
		s.AccessToken, s.Expires = "not-a-token", time.Now().Add(time.Hour)
		c := client.New(endpoint, client.WithSession(s))
		me, err := c.Me(ctx)
		if err != nil || me.IdentityID != s.IdentityID || c.Session().AccessToken == "not-a-token" {
			t.Fatalf("%v %+v", err, me)
		}
		// Without a refresh token, the refusal is the answer.
		bare := client.New(endpoint, client.WithSession(client.Session{AccessToken: "not-a-token"}))
		if _, err := bare.Me(ctx); status(err) != http.StatusUnauthorized {
			t.Fatal(err)
		}
	})
}

func TestDeviceSignInAndLogout(t *testing.T) {
	ctx := context.Background()
	const device, secret = "device-42", "a-secret-of-this-device-0123"
	c := client.New(endpoint)
	s, err := c.SignInDevice(ctx, device, secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the same device and secret are the same identity", func(t *testing.T) {
		again, err := client.New(endpoint).SignInDevice(ctx, device, secret)
		if err != nil || again.IdentityID != s.IdentityID {
			t.Fatalf("%v %+v", err, again)
		}
		_, err = client.New(endpoint).SignInDevice(ctx, device, "another-secret-0123456789")
		if status(err) != http.StatusUnauthorized {
			t.Fatalf("a wrong device secret: %v", err)
		}
	})
	t.Run("logout revokes the session's tokens and signs the client out", func(t *testing.T) {
		if err := c.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Me(ctx); !errors.Is(err, client.ErrNotSignedIn) {
			t.Fatal(err)
		}
		old := client.New(endpoint, client.WithSession(s))
		if _, err := old.Me(ctx); status(err) != http.StatusUnauthorized {
			t.Fatalf("a logged-out session's tokens: %v", err)
		}
	})
}

func TestOIDCSignIn(t *testing.T) {
	is := identitytest.NewIssuer(t)
	providers := filepath.Join(t.TempDir(), "oidc.json")
	if err := os.WriteFile(providers, []byte(`[{"name":"test-idp","issuer":"`+is.Server.URL+`","clientId":"game-client"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := testenv.Start(t, testenv.WithArgs("--oidc-providers", providers, "--sdk-listen", "127.0.0.1:0"))
	ctx := context.Background()
	token := is.Token(t, is.Claims("alice", "game-client", time.Now()))
	first, err := client.New(s.URL()).SignInOIDC(ctx, "test-idp", token)
	if err != nil || first.IdentityID == "" {
		t.Fatalf("%v %+v", err, first)
	}
	t.Run("the provider's subject is the same identity every time", func(t *testing.T) {
		c := client.New(s.URL())
		again, err := c.SignInOIDC(ctx, "test-idp", token)
		if err != nil || again.IdentityID != first.IdentityID {
			t.Fatalf("%v %+v", err, again)
		}
		if me, err := c.Me(ctx); err != nil || me.IdentityID != first.IdentityID {
			t.Fatalf("%v %+v", err, me)
		}
	})
	t.Run("a token for another audience is refused", func(t *testing.T) {
		_, err := client.New(s.URL()).SignInOIDC(ctx, "test-idp", is.Token(t, is.Claims("alice", "another-app", time.Now())))
		if status(err) != http.StatusUnauthorized {
			t.Fatal(err)
		}
	})
}

func TestPlayersWriteTheirOwnData(t *testing.T) {
	ctx := context.Background()
	c := signedIn(t)
	me, err := c.Me(ctx)
	if err != nil || me.Version != 0 {
		t.Fatalf("%v %+v", err, me)
	}
	t.Run("a player-writable key is written, and read back", func(t *testing.T) {
		rec, err := c.UpdateMyData(ctx, me.Version, map[string]any{"nickname": "ann"})
		if err != nil || rec.Version == 0 || rec.Data["nickname"] != "ann" {
			t.Fatalf("%v %+v", err, rec)
		}
		if again, err := c.Me(ctx); err != nil || again.Version != rec.Version || again.Data["nickname"] != "ann" {
			t.Fatalf("%v %+v", err, again)
		}
	})
	t.Run("a stale version is 412; AnyVersion writes", func(t *testing.T) {
		if _, err := c.UpdateMyData(ctx, me.Version, map[string]any{"nickname": "bob"}); status(err) != http.StatusPreconditionFailed {
			t.Fatal(err)
		}
		rec, err := c.UpdateMyData(ctx, client.AnyVersion, map[string]any{"nickname": nil})
		if err != nil {
			t.Fatal(err)
		}
		if _, has := rec.Data["nickname"]; has {
			t.Fatalf("a nil value did not remove the key: %+v", rec)
		}
	})
	t.Run("a key the operator did not open to players is 403", func(t *testing.T) {
		if _, err := c.UpdateMyData(ctx, client.AnyVersion, map[string]any{"coins": 1e6}); status(err) != http.StatusForbidden {
			t.Fatal(err)
		}
	})
}
