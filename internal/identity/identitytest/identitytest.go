package identitytest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Issuer is an OpenID Connect provider a test runs: discovery and a JWKS
// over httptest, and ID tokens signed with its own RSA key (RS256).
type Issuer struct {
	Server *httptest.Server
	Key    *rsa.PrivateKey
	KID    string
	// Down makes discovery answer 503 while it is set.
	Down atomic.Bool
	// JWKSFetches counts the fetches of the key set.
	JWKSFetches atomic.Int32
	// JWKSURI, when set, is the key set's address discovery names in
	// place of the issuer's own.
	JWKSURI atomic.Pointer[string]
}

// NewIssuer starts an Issuer, stopped when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &Issuer{Key: key, KID: "idp-key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if is.Down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		jwks := is.Server.URL + "/jwks"
		if u := is.JWKSURI.Load(); u != nil {
			jwks = *u
		}
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.Server.URL, "jwks_uri": jwks, "authorization_endpoint": is.Server.URL + "/auth",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		is.JWKSFetches.Add(1)
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: is.KID, Algorithm: "RS256", Use: "sig"}}})
	})
	is.Server = httptest.NewServer(mux)
	t.Cleanup(is.Server.Close)
	return is
}

// Claims are the claims of an ID token for subject sub and audience aud,
// issued at now and valid for 10 minutes.
func (is *Issuer) Claims(sub, aud string, now time.Time) map[string]any {
	return map[string]any{"iss": is.Server.URL, "aud": aud, "sub": sub, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
}

// Token signs claims with the issuer's key.
func (is *Issuer) Token(t testing.TB, claims map[string]any) string {
	return Sign(t, jose.RS256, is.Key, is.KID, claims)
}

// Sign makes a compact JWS (typ JWT) of claims with key under alg and kid.
func Sign(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
