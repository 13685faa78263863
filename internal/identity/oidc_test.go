package identity_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
)

// issuer is an OpenID Connect provider the test runs: discovery and a JWKS
// over httptest, and ID tokens signed with its own RSA key.
type issuer struct {
	srv  *httptest.Server
	key  *rsa.PrivateKey
	kid  string
	down atomic.Bool
	jwks atomic.Int32 // JWKS fetches
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key, kid: "idp-key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if is.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/jwks", "authorization_endpoint": is.srv.URL + "/auth",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		is.jwks.Add(1)
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: is.kid, Algorithm: "RS256", Use: "sig"}}})
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) claims(sub string, now time.Time) map[string]any {
	return map[string]any{"iss": is.srv.URL, "aud": "game-client", "sub": sub, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
}

func (is *issuer) token(t *testing.T, claims map[string]any) string {
	return sign(t, jose.RS256, is.key, is.kid, claims)
}

func oidcEnv(t *testing.T, is *issuer) *env {
	return newEnv(t, func(c *identity.Config) {
		c.OIDCProviders = []identity.OIDCProvider{{Name: "acme", Issuer: is.srv.URL, ClientID: "game-client"}}
		c.HTTPClient = is.srv.Client()
	})
}

func TestOIDCSignIn(t *testing.T) {
	is := newIssuer(t)
	e := oidcEnv(t, is)
	first, err := e.svc.OIDC(ctx, "acme", is.token(t, is.claims("alice", t0)))
	if err != nil || !first.Created {
		t.Fatalf("%+v, %v", first, err)
	}
	if _, err := e.svc.Verify(ctx, first.AccessToken); err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.OIDC(ctx, "acme", is.token(t, is.claims("alice", t0)))
	if err != nil || again.IdentityID != first.IdentityID || again.Created {
		t.Fatalf("the same subject got %+v, %v", again, err)
	}
	bob, err := e.svc.OIDC(ctx, "acme", is.token(t, is.claims("bob", t0)))
	if err != nil || bob.IdentityID == first.IdentityID {
		t.Fatalf("another subject got %+v, %v", bob, err)
	}
	if n := is.jwks.Load(); n != 1 {
		t.Fatalf("the JWKS was fetched %d times, want once (cached)", n)
	}
}

func TestOIDCRejections(t *testing.T) {
	is := newIssuer(t)
	e := oidcEnv(t, is)
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	with := func(k string, v any) map[string]any {
		c := is.claims("alice", t0)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	good := is.token(t, is.claims("alice", t0))
	parts := strings.Split(good, ".")
	tests := []struct {
		name  string
		token string
	}{
		{"another issuer", is.token(t, with("iss", "https://evil.example"))},
		{"another audience", is.token(t, with("aud", "someone-elses-game"))},
		{"an expired token", is.token(t, with("exp", t0.Add(-time.Second).Unix()))},
		{"a token not valid yet", is.token(t, with("nbf", t0.Add(time.Hour).Unix()))},
		{"a token signed by another key under the provider's kid", sign(t, jose.RS256, otherKey, is.kid, is.claims("alice", t0))},
		{"a token with an unknown kid", sign(t, jose.RS256, otherKey, "unknown", is.claims("alice", t0))},
		{"an ES256 token the provider does not use", sign(t, jose.ES256, ecKey, is.kid, is.claims("alice", t0))},
		{"alg none", b64(map[string]string{"alg": "none", "kid": is.kid}) + "." + b64(is.claims("alice", t0)) + "."},
		{"HMAC keyed with the provider's public modulus", sign(t, jose.HS256, is.key.PublicKey.N.Bytes(), is.kid, is.claims("alice", t0))},
		{"a changed payload", parts[0] + "." + b64(is.claims("mallory", t0)) + "." + parts[2]},
		{"a token without a subject", is.token(t, with("sub", nil))},
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
	is := newIssuer(t)
	is.down.Store(true)
	e := oidcEnv(t, is) // starts although the provider is down
	_, err := e.svc.OIDC(ctx, "acme", is.token(t, is.claims("alice", t0)))
	if !fault.Is(err, fault.NotReady) {
		t.Fatalf("got %v, want NotReady", err)
	}
	is.down.Store(false)
	// Within the retry pause the failure is remembered…
	if _, err := e.svc.OIDC(ctx, "acme", is.token(t, is.claims("alice", t0))); !fault.Is(err, fault.NotReady) {
		t.Fatalf("got %v, want NotReady within the retry pause", err)
	}
	// …then discovery is tried again.
	e.clk.Advance(5 * time.Second)
	if _, err := e.svc.OIDC(ctx, "acme", is.token(t, is.claims("alice", t0.Add(5*time.Second)))); err != nil {
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
