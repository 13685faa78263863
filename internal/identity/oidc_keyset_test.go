package identity_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/identity/identitytest"
	"github.com/musterhq/muster/internal/webhook/safehttp"
)

// keyServer serves an OIDC provider's key set on its own address (the
// issuer's discovery names it), which a test can make hang, fail, grow or
// rotate.
type keyServer struct {
	srv     *httptest.Server
	fetches atomic.Int32
	// started receives one value as each fetch begins hanging.
	started chan struct{}
	release chan struct{}

	mu   sync.Mutex
	keys []jose.JSONWebKey
	hang bool
	down bool
	pad  int // bytes of padding added to the key set
}

func newKeyServer(t *testing.T, is *identitytest.Issuer) *keyServer {
	t.Helper()
	ks := &keyServer{started: make(chan struct{}, 16), release: make(chan struct{})}
	ks.setKey(&is.Key.PublicKey, is.KID)
	ks.srv = httptest.NewServer(http.HandlerFunc(ks.serve))
	t.Cleanup(ks.srv.Close)
	t.Cleanup(func() { close(ks.release) }) // runs first: ends any hang
	u := ks.srv.URL + "/keys"
	is.JWKSURI.Store(&u)
	return ks
}

func (ks *keyServer) serve(w http.ResponseWriter, r *http.Request) {
	ks.fetches.Add(1)
	ks.mu.Lock()
	keys, hang, down, pad := ks.keys, ks.hang, ks.down, ks.pad
	ks.mu.Unlock()
	switch {
	case hang:
		ks.started <- struct{}{}
		select { // until the client gives up
		case <-r.Context().Done():
		case <-ks.release:
		}
	case down:
		http.Error(w, `{"error":"kept-by-the-provider"}`, http.StatusServiceUnavailable)
	default:
		json.NewEncoder(w).Encode(map[string]any{"keys": keys, "padding": strings.Repeat("x", pad)})
	}
}

func (ks *keyServer) setKey(pub *rsa.PublicKey, kid string) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.keys = []jose.JSONWebKey{{Key: pub, KeyID: kid, Algorithm: "RS256", Use: "sig"}}
}

func (ks *keyServer) set(f func(ks *keyServer)) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	f(ks)
}

// keySetEnv is an identity service trusting is, whose key set ks serves,
// with requests to the provider cut after a short timeout.
func keySetEnv(t *testing.T) (*env, *identitytest.Issuer, *keyServer) {
	is := identitytest.NewIssuer(t)
	ks := newKeyServer(t, is)
	e := oidcEnv(t, is)
	e.svc.SetOIDCFetchTimeout(100 * time.Millisecond)
	return e, is, ks
}

func wantOIDCNotReady(t *testing.T, err error) {
	t.Helper()
	if !fault.Is(err, fault.NotReady) {
		t.Fatalf("got %v, want NotReady", err)
	}
}

// TestOIDCSignInRecoversFromAHungKeyFetch: a provider that accepts the
// key set's request and never answers fails the sign-in waiting for it
// (503) once the request times out, instead of holding that fetch, and
// every sign-in after it, for ever; once the provider is back, with a new
// key, a token it signs verifies.
func TestOIDCSignInRecoversFromAHungKeyFetch(t *testing.T) {
	e, is, ks := keySetEnv(t)
	ks.set(func(ks *keyServer) { ks.hang = true })
	// The deadline only keeps a regression from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := e.svc.OIDC(ctx, "acme", is.Token(t, is.Claims("alice", "game-client", t0)))
	wantOIDCNotReady(t, err)
	<-ks.started

	rotated, _ := rsa.GenerateKey(rand.Reader, 2048)
	ks.set(func(ks *keyServer) { ks.hang = false })
	ks.setKey(&rotated.PublicKey, "idp-key-2")
	e.clk.Advance(10 * time.Second)
	now := t0.Add(10 * time.Second)
	tok := identitytest.Sign(t, jose.RS256, rotated, "idp-key-2", is.Claims("alice", "game-client", now))
	if _, err := e.svc.OIDC(ctx, "acme", tok); err != nil {
		t.Fatalf("a token of the rotated key after the provider came back: %v", err)
	}
}

// TestOIDCForgedTokensCostAtMostOneKeyFetch: tokens signed by someone
// else, under the provider's kid or under made-up ones, sent at once, are
// refused with at most one fetch of the key set between them.
func TestOIDCForgedTokensCostAtMostOneKeyFetch(t *testing.T) {
	e, is, ks := keySetEnv(t)
	if _, err := e.svc.OIDC(ctx, "acme", is.Token(t, is.Claims("alice", "game-client", t0))); err != nil {
		t.Fatal(err)
	}
	before := ks.fetches.Load()
	forger, _ := rsa.GenerateKey(rand.Reader, 2048)
	var tokens []string
	for i := range 50 {
		kid := is.KID
		if i%2 == 1 {
			kid = "forged-" + rand.Text()
		}
		tokens = append(tokens, identitytest.Sign(t, jose.RS256, forger, kid, is.Claims("mallory", "game-client", t0)))
	}
	errs := make([]error, len(tokens))
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() { _, errs[i] = e.svc.OIDC(ctx, "acme", tok) })
	}
	wg.Wait()
	for _, err := range errs {
		wantUnauthenticated(t, err)
	}
	if n := ks.fetches.Load() - before; n > 1 {
		t.Fatalf("50 forged tokens made %d fetches of the key set, want at most 1", n)
	}
}

// TestOIDCProviderWhoseKeysCannotBeFetchedIsNotReady: the provider's key
// set failing (an error status, an answer too large) is 503, without what
// the provider answered; once it works again, sign-in does too.
func TestOIDCProviderWhoseKeysCannotBeFetchedIsNotReady(t *testing.T) {
	for _, c := range []struct {
		name string
		fail func(ks *keyServer)
	}{
		{"an error status", func(ks *keyServer) { ks.down = true }},
		{"a key set over 1 MiB", func(ks *keyServer) { ks.pad = 1 << 20 }},
	} {
		t.Run(c.name+" is NotReady", func(t *testing.T) {
			e, is, ks := keySetEnv(t)
			ks.set(c.fail)
			_, err := e.svc.OIDC(ctx, "acme", is.Token(t, is.Claims("alice", "game-client", t0)))
			wantOIDCNotReady(t, err)
			if strings.Contains(err.Error(), "kept-by-the-provider") {
				t.Fatalf("the refusal shows what the provider answered: %v", err)
			}
			ks.set(func(ks *keyServer) { ks.down, ks.pad = false, 0 })
			e.clk.Advance(10 * time.Second)
			if _, err := e.svc.OIDC(ctx, "acme", is.Token(t, is.Claims("alice", "game-client", t0.Add(10*time.Second)))); err != nil {
				t.Fatalf("after the provider recovered: %v", err)
			}
		})
	}
}

// TestOIDCKeySetAtARefusedAddressIsNotValid: a key set whose address the
// HTTP client refuses to reach (safehttp: one of Muster's own listeners)
// is no outage to wait out: the token is not valid (401), and the address
// is never called.
func TestOIDCKeySetAtARefusedAddressIsNotValid(t *testing.T) {
	is := identitytest.NewIssuer(t)
	ks := newKeyServer(t, is)
	own := netip.MustParseAddrPort(ks.srv.Listener.Addr().String())
	e := newEnv(t, func(c *identity.Config) {
		c.OIDCProviders = []identity.OIDCProvider{{Name: "acme", Issuer: is.Server.URL, ClientID: "game-client"}}
		c.HTTPClient = safehttp.Config{AllowPrivate: true, Own: []netip.AddrPort{own}}.Client()
	})
	_, err := e.svc.OIDC(ctx, "acme", is.Token(t, is.Claims("alice", "game-client", t0)))
	wantUnauthenticated(t, err)
	if n := ks.fetches.Load(); n != 0 {
		t.Fatalf("the refused address was called %d times", n)
	}
}
