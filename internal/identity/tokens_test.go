package identity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/identity/identitytest"
	"github.com/musterhq/muster/internal/service"
)

var ctx = context.Background()

func jwks(t testing.TB, svc *identity.Service) jose.JSONWebKeySet {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(svc.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	return set
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func validClaims(now time.Time, sub string) map[string]any {
	return map[string]any{"iss": "muster", "aud": []string{identity.Audience}, "sub": sub,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func wantUnauthenticated(t *testing.T, err error) {
	t.Helper()
	if !fault.Is(err, fault.Unauthenticated) {
		t.Fatalf("got %v, want Unauthenticated", err)
	}
}

func TestAccessTokensVerify(t *testing.T) {
	e := newEnv(t, nil)
	tok, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if c.IdentityID != tok.IdentityID || c.SessionID == "" || !c.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("claims %+v", c)
	}
	set := jwks(t, e.svc)
	if len(set.Keys) != 1 || set.Keys[0].Algorithm != "EdDSA" || set.Keys[0].Use != "sig" || !set.Keys[0].IsPublic() {
		t.Fatalf("JWKS %s", e.svc.JWKS())
	}
}

// The server remembers a token it issues as verified, so the token's first
// use skips the signature check; what it remembers must be what a full
// check reads back from the token, to the second.
func TestAnIssuedTokenVerifiesAsAFullCheckWould(t *testing.T) {
	e := newEnv(t, nil)
	e.clk.Advance(1500 * time.Millisecond) // iat and exp are whole seconds in the token
	tok, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	remembered, err := e.svc.Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	e.svc.ForgetVerified()
	checked, err := e.svc.Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if remembered.IdentityID != checked.IdentityID || remembered.SessionID != checked.SessionID ||
		!remembered.IssuedAt.Equal(checked.IssuedAt) || !remembered.ExpiresAt.Equal(checked.ExpiresAt) {
		t.Fatalf("remembered at issue %+v, read from the token %+v", remembered, checked)
	}
}

func TestAccessTokensAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	good, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	set := jwks(t, e.svc)
	kid := set.Keys[0].KeyID
	pub := set.Keys[0].Key.(ed25519.PublicKey)
	_, otherEd, _ := ed25519.GenerateKey(rand.Reader)
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	parts := strings.Split(good.AccessToken, ".")
	claims := validClaims(t0, good.IdentityID)

	// Another service on the same store whose clock is an hour ahead signs
	// tokens that are not valid yet here.
	ahead := e.service(t, func(c *identity.Config) { c.Clock = clock.NewFake(t0.Add(time.Hour)) })
	future, _, err := ahead.IssueAccessToken(good.IdentityID, "session-1")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
	}{
		{"an empty token", ""},
		{"garbage", "not.a.jwt"},
		{"a payload changed after signing", parts[0] + "." + b64(validClaims(t0, "someone-else")) + "." + parts[2]},
		{"a signature from another key under our kid", identitytest.Sign(t, jose.EdDSA, otherEd, kid, claims)},
		{"an unknown kid", identitytest.Sign(t, jose.EdDSA, otherEd, "no-such-key", claims)},
		{"no kid", identitytest.Sign(t, jose.EdDSA, otherEd, "", claims)},
		{"alg none", b64(map[string]string{"alg": "none", "kid": kid, "typ": "JWT"}) + "." + b64(claims) + "."},
		{"HMAC keyed with our public key", identitytest.Sign(t, jose.HS256, []byte(pub), kid, claims)},
		{"RS256 under our kid", identitytest.Sign(t, jose.RS256, rsaKey, kid, claims)},
		{"ES256 under our EdDSA kid", identitytest.Sign(t, jose.ES256, otherEC, kid, claims)},
		{"a token that is not valid yet", future},
		{"a token longer than the limit", good.AccessToken + strings.Repeat("A", identity.MaxTokenLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			_, err := e.svc.Verify(ctx, tt.token)
			wantUnauthenticated(t, err)
		})
	}

	t.Run("an expired token is refused, even after it was accepted", func(t *testing.T) {
		if _, err := e.svc.Verify(ctx, good.AccessToken); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Hour)
		_, err := e.svc.Verify(ctx, good.AccessToken)
		wantUnauthenticated(t, err)
		e.svc.ForgetVerified()
		_, err = e.svc.Verify(ctx, good.AccessToken)
		wantUnauthenticated(t, err)
	})
}

func TestForeignIssuerAndAudienceAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	other := e.service(t, func(c *identity.Config) { c.Issuer = "someone-else" })
	tok, _, err := other.IssueAccessToken("id-1", "session-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Verify(ctx, tok)
	wantUnauthenticated(t, err)
}

func TestRotationKeepsOldTokensValidForTheirLifetime(t *testing.T) {
	e := newEnv(t, nil)
	before, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	oldKID := jwks(t, e.svc).Keys[0].KeyID
	keys := &identity.SigningKeys{Store: e.db, Box: e.box, Clock: e.clk, Alg: jose.ES256}
	newKID, err := keys.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	set := jwks(t, e.svc)
	if len(set.Keys) != 2 || len(set.Key(oldKID)) != 1 || len(set.Key(newKID)) != 1 || set.Key(newKID)[0].Algorithm != "ES256" {
		t.Fatalf("JWKS after rotation: %s", e.svc.JWKS())
	}
	// The last token of the old key, signed just before the new one
	// activates, lives its whole lifetime.
	e.clk.Advance(identity.KeyActivationDelay - time.Second)
	last, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, last.AccessToken) != oldKID {
		t.Fatalf("a token before the activation names %s, not the old key %s", kidOf(t, last.AccessToken), oldKID)
	}
	e.clk.Advance(time.Second)
	fresh, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, fresh.AccessToken) != newKID {
		t.Fatalf("a token after the activation names %s, not the new key %s", kidOf(t, fresh.AccessToken), newKID)
	}
	if _, err := e.svc.Verify(ctx, before.AccessToken); err != nil {
		t.Fatalf("token of the old key after rotation: %v", err)
	}
	e.clk.Advance(time.Hour - 2*time.Second)
	e.svc.ForgetVerified()
	if _, err := e.svc.Verify(ctx, last.AccessToken); err != nil {
		t.Fatalf("the old key's last token a second before it expires: %v", err)
	}
	// One lifetime (+1 min) after the activation the old key is gone from
	// the set.
	e.clk.Advance(time.Minute + 2*time.Second)
	if err := e.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if set := jwks(t, e.svc); len(set.Keys) != 1 || set.Keys[0].KeyID != newKID {
		t.Fatalf("JWKS a lifetime after the activation: %s", e.svc.JWKS())
	}
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(mustDecodeHeader(t, tok), &h); err != nil {
		t.Fatal(err)
	}
	return h.KID
}

func mustDecodeHeader(t *testing.T, tok string) []byte {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestTokensAndSessionsSurviveARestart(t *testing.T) {
	e := newEnv(t, nil)
	tok, err := e.svc.Anonymous(ctx, "device-1", "0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	kid := jwks(t, e.svc).Keys[0].KeyID
	e.restart(t, nil)
	if got := jwks(t, e.svc).Keys; len(got) != 1 || got[0].KeyID != kid {
		t.Fatalf("signing key changed across a restart: %s", e.svc.JWKS())
	}
	if _, err := e.svc.Verify(ctx, tok.AccessToken); err != nil {
		t.Fatalf("access token after restart: %v", err)
	}
	next, err := e.svc.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after restart: %v", err)
	}
	again, err := e.svc.Anonymous(ctx, "device-1", "0123456789abcdef")
	if err != nil || again.IdentityID != tok.IdentityID || again.Created {
		t.Fatalf("device sign-in after restart: %+v, %v", again, err)
	}
	if err := e.svc.Logout(ctx, next.RefreshToken); err != nil {
		t.Fatal(err)
	}
	e.restart(t, nil)
	_, err = e.svc.Verify(ctx, next.AccessToken)
	wantUnauthenticated(t, err)
}

func TestAMasterKeyOtherThanTheOneThatSealedTheKeysFailsToOpen(t *testing.T) {
	e := newEnv(t, nil)
	e.box = newBox(t)
	if _, err := identity.Open(ctx, identity.Config{Base: service.Base{Store: e.db, Clock: e.clk}, Box: e.box}); err == nil {
		t.Fatal("opened with the wrong master key")
	}
}
