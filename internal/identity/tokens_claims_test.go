package identity_test

import (
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/identity"
)

// iat is rounded down to the second, and replicas' clocks differ by a
// little: a token is accepted where the clock is a little behind the one
// that signed it, but not a lot behind, and never after it has expired.
func TestIssuedAtAndNotBeforeAllowAFewSecondsOfClockSkew(t *testing.T) {
	e := newEnv(t, nil)
	at := func(d time.Duration) *identity.Service {
		return e.service(t, func(c *identity.Config) { c.Clock = clock.NewFake(t0.Add(d)) })
	}
	signer := at(200 * time.Millisecond) // iat is t0
	tok := issue(t, signer, "session-1")
	tests := []struct {
		name   string
		skew   time.Duration
		refuse bool
	}{
		{"a replica 300 ms behind accepts it", -300 * time.Millisecond, false},
		{"a replica 4 s behind accepts it", -4 * time.Second, false},
		{"a replica 6 s behind refuses it", -6 * time.Second, true},
		{"a replica at its exp refuses it", time.Hour, true},
		{"a replica a millisecond before its exp accepts it", time.Hour - time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := at(tt.skew).Verify(ctx, tok)
			if tt.refuse {
				wantUnauthenticated(t, err)
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestATokenWithoutASessionIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	if _, _, err := e.svc.IssueAccessToken("id-1", ""); err == nil {
		t.Fatal("a token without a session id was issued")
	}
	for _, sid := range []any{nil, ""} {
		claims := validClaims(t0, "id-1")
		if sid != nil {
			claims["sid"] = sid
		}
		tok, err := e.svc.SignClaims(claims)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Verify(ctx, tok)
		wantUnauthenticated(t, err)
	}
}

// A revocation holds for this replica's access token lifetime, so a token
// that claims a longer one (issued before the lifetime was shortened, or by
// a replica configured otherwise) is refused outright.
func TestATokenLivingLongerThanTheLifetimeIsRefused(t *testing.T) {
	e := newEnv(t, func(c *identity.Config) { c.AccessTokenLifetime = 24 * time.Hour })
	long, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	e.restart(t, func(c *identity.Config) { c.AccessTokenLifetime = time.Hour })
	_, err = e.svc.Verify(ctx, long.AccessToken)
	wantUnauthenticated(t, err)
	if err := e.svc.Logout(ctx, long.RefreshToken); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(62 * time.Minute)
	_, err = e.svc.Verify(ctx, long.AccessToken)
	wantUnauthenticated(t, err)

	claims := validClaims(t0, "id-1")
	claims["sid"] = "session-1"
	claims["exp"] = e.clk.Now().Add(time.Hour + 5*time.Second).Unix()
	claims["iat"], claims["nbf"] = e.clk.Now().Unix(), e.clk.Now().Unix()
	within, err := e.svc.SignClaims(claims)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Verify(ctx, within); err != nil {
		t.Fatalf("a token within the lifetime's leeway: %v", err)
	}
}
