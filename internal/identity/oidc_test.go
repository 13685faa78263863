package identity_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/identity/identitytest"
)

func oidcEnv(t *testing.T, is *identitytest.Issuer) *env {
	return newEnv(t, func(c *identity.Config) {
		c.OIDCProviders = []identity.OIDCProvider{{Name: "acme", Issuer: is.Server.URL, ClientID: "game-client"}}
		c.HTTPClient = is.Server.Client()
	})
}

func TestOIDCSignIn(t *testing.T) {
	is := identitytest.NewIssuer(t)
	e := oidcEnv(t, is)
	first, err := e.svc.OIDC(ctx, "acme", is.Token(t, is.Claims("alice", "game-client", t0)))
	if err != nil || !first.Created {
		t.Fatalf("%+v, %v", first, err)
	}
	if _, err := e.svc.Verify(ctx, first.AccessToken); err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.OIDC(ctx, "acme", is.Token(t, is.Claims("alice", "game-client", t0)))
	if err != nil || again.IdentityID != first.IdentityID || again.Created {
		t.Fatalf("the same subject got %+v, %v", again, err)
	}
	bob, err := e.svc.OIDC(ctx, "acme", is.Token(t, is.Claims("bob", "game-client", t0)))
	if err != nil || bob.IdentityID == first.IdentityID {
		t.Fatalf("another subject got %+v, %v", bob, err)
	}
	if n := is.JWKSFetches.Load(); n != 1 {
		t.Fatalf("the JWKS was fetched %d times, want once (cached)", n)
	}
}

func TestOIDCRejections(t *testing.T) {
	is := identitytest.NewIssuer(t)
	e := oidcEnv(t, is)
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	with := func(k string, v any) map[string]any {
		c := is.Claims("alice", "game-client", t0)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	good := is.Token(t, is.Claims("alice", "game-client", t0))
	parts := strings.Split(good, ".")
	tests := []struct {
		name  string
		token string
	}{
		{"another issuer", is.Token(t, with("iss", "https://evil.example"))},
		{"another audience", is.Token(t, with("aud", "someone-elses-game"))},
		{"an expired token", is.Token(t, with("exp", t0.Add(-time.Second).Unix()))},
		{"a token not valid yet", is.Token(t, with("nbf", t0.Add(time.Hour).Unix()))},
		{"a token signed by another key under the provider's kid", identitytest.Sign(t, jose.RS256, otherKey, is.KID, is.Claims("alice", "game-client", t0))},
		{"a token with an unknown kid", identitytest.Sign(t, jose.RS256, otherKey, "unknown", is.Claims("alice", "game-client", t0))},
		{"an ES256 token the provider does not use", identitytest.Sign(t, jose.ES256, ecKey, is.KID, is.Claims("alice", "game-client", t0))},
		{"alg none", b64(map[string]string{"alg": "none", "kid": is.KID}) + "." + b64(is.Claims("alice", "game-client", t0)) + "."},
		{"HMAC keyed with the provider's public modulus", identitytest.Sign(t, jose.HS256, is.Key.PublicKey.N.Bytes(), is.KID, is.Claims("alice", "game-client", t0))},
		{"a changed payload", parts[0] + "." + b64(is.Claims("mallory", "game-client", t0)) + "." + parts[2]},
		{"a token without a subject", is.Token(t, with("sub", nil))},
		{"garbage", "garbage"},
		{"an empty token", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			_, err := e.svc.OIDC(ctx, "acme", tt.token)
			wantUnauthenticated(t, err)
		})
	}
	t.Run("an unknown provider is invalid, naming $.provider", func(t *testing.T) {
		_, err := e.svc.OIDC(ctx, "nope", good)
		var fe *fault.Error
		if !asFault(err, &fe) || fe.Kind != fault.Invalid || fe.Fields[0].Field != "$.provider" {
			t.Fatalf("got %v", err)
		}
	})
}

func TestOIDCProviderDownAtFirstUseIsRetried(t *testing.T) {
	is := identitytest.NewIssuer(t)
	is.Down.Store(true)
	e := oidcEnv(t, is) // starts although the provider is down
	_, err := e.svc.OIDC(ctx, "acme", is.Token(t, is.Claims("alice", "game-client", t0)))
	if !fault.Is(err, fault.NotReady) {
		t.Fatalf("got %v, want NotReady", err)
	}
	is.Down.Store(false)
	// Within the retry pause the failure is remembered…
	if _, err := e.svc.OIDC(ctx, "acme", is.Token(t, is.Claims("alice", "game-client", t0))); !fault.Is(err, fault.NotReady) {
		t.Fatalf("got %v, want NotReady within the retry pause", err)
	}
	// …then discovery is tried again.
	e.clk.Advance(5 * time.Second)
	if _, err := e.svc.OIDC(ctx, "acme", is.Token(t, is.Claims("alice", "game-client", t0.Add(5*time.Second)))); err != nil {
		t.Fatal(err)
	}
}

func TestLoadOIDCProviders(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "p.json")
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	ps, err := identity.LoadOIDCProviders(write(`[{"name":"google","issuer":"https://accounts.google.com","clientId":"abc"}]`))
	if err != nil || len(ps) != 1 || ps[0].ClientID != "abc" {
		t.Fatalf("%+v, %v", ps, err)
	}
	for _, tt := range []struct{ name, body, want string }{
		{"an unknown key", `[{"name":"g","issuer":"https://x","clientId":"a","secret":"s"}]`, "secret"},
		{"a missing client id", `[{"name":"g","issuer":"https://x"}]`, "$[0].clientId"},
		{"a bad issuer", `[{"name":"g","issuer":"ftp://x","clientId":"a"}]`, "$[0].issuer"},
		{"a duplicate name", `[{"name":"g","issuer":"https://x","clientId":"a"},{"name":"g","issuer":"https://y","clientId":"b"}]`, "$[1].name"},
		{"an HMAC algorithm", `[{"name":"g","issuer":"https://x","clientId":"a","algorithms":["HS256"]}]`, "$[0].algorithms[0]"},
	} {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			_, err := identity.LoadOIDCProviders(write(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want it to name %s", err, tt.want)
			}
		})
	}
}

// TestOIDCRefusalShowsNothingAnotherHostAnswered: a key set the provider's
// discovery points elsewhere, answering with what that host keeps, fails
// the sign-in (the provider's keys are unavailable: 503) without its answer
// reaching the caller.
func TestOIDCRefusalShowsNothingAnotherHostAnswered(t *testing.T) {
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"secret":"kept-by-another-host"}`, http.StatusNotFound)
	}))
	t.Cleanup(internal.Close)
	is := identitytest.NewIssuer(t)
	u := internal.URL + "/admin"
	is.JWKSURI.Store(&u)
	e := oidcEnv(t, is)
	_, err := e.svc.OIDC(ctx, "acme", is.Token(t, is.Claims("alice", "game-client", t0)))
	wantOIDCNotReady(t, err)
	if strings.Contains(err.Error(), "kept-by-another-host") {
		t.Fatalf("the refusal shows the other host's answer: %v", err)
	}
}
