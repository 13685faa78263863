package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/webhook/safehttp"
)

// OIDCProvider is an external OpenID Connect identity provider the operator
// trusts. Providers are configured with `muster serve --oidc-providers
// FILE`, a JSON array of these objects.
type OIDCProvider struct {
	// Name is what clients send as "provider" (e.g. "google").
	Name string `json:"name"`
	// Issuer is the provider's issuer URL; discovery is fetched from
	// <Issuer>/.well-known/openid-configuration.
	Issuer string `json:"issuer"`
	// ClientID is the audience ID tokens must carry (the game's OAuth client id).
	ClientID string `json:"clientId"`
	// Algorithms optionally restricts the ID token signing algorithms;
	// default: those the provider's discovery document lists (RS256 if none).
	Algorithms []string `json:"algorithms,omitempty"`
}

var providerNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// LoadOIDCProviders reads and validates a providers file.
func LoadOIDCProviders(path string) ([]OIDCProvider, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("OIDC providers: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ps []OIDCProvider
	if err := dec.Decode(&ps); err != nil {
		return nil, fmt.Errorf("OIDC providers %s: %w", path, err)
	}
	var v fault.Validator
	seen := map[string]bool{}
	for i, p := range ps {
		at := fmt.Sprintf("$[%d]", i)
		v.Check(providerNamePattern.MatchString(p.Name), at+".name", "must be 1 to 64 lower-case letters, digits or . _ -")
		v.Check(!seen[p.Name], at+".name", "%q is configured twice", p.Name)
		seen[p.Name] = true
		u, err := url.Parse(p.Issuer)
		v.Check(err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "", at+".issuer", "must be an http(s) URL")
		v.Check(p.ClientID != "", at+".clientId", "is required")
		for j, a := range p.Algorithms {
			v.Check(allowedOIDCAlgs[a], fmt.Sprintf("%s.algorithms[%d]", at, j), "must be an asymmetric JWS algorithm (RS256, ES256, EdDSA, …)")
		}
	}
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("OIDC providers %s: %w", path, err)
	}
	return ps, nil
}

var allowedOIDCAlgs = map[string]bool{
	oidc.RS256: true, oidc.RS384: true, oidc.RS512: true, oidc.ES256: true, oidc.ES384: true,
	oidc.ES512: true, oidc.PS256: true, oidc.PS384: true, oidc.PS512: true, oidc.EdDSA: true,
}

// oidcProvider makes its go-oidc verifier on first use, so a provider that
// is down does not stop Muster from starting; a failed discovery is retried
// after retryAfter.
type oidcProvider struct {
	cfg OIDCProvider
	// fetchTimeout bounds each request to the provider (oidcFetchTimeout
	// when zero; tests shorten it).
	fetchTimeout time.Duration

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	keys     *oidcKeySet
	lastErr  error
	lastTry  time.Time
}

const (
	oidcRetryAfter = 5 * time.Second
	// oidcFetchTimeout bounds one request to a provider, in real time: a
	// provider that accepts the connection and never answers must not
	// hold sign-in up for longer.
	oidcFetchTimeout = 10 * time.Second
)

func (p *oidcProvider) timeout() time.Duration {
	if p.fetchTimeout > 0 {
		return p.fetchTimeout
	}
	return oidcFetchTimeout
}

// oidcDiscovery is what Muster reads of a discovery document beyond what
// go-oidc checks (the issuer).
type oidcDiscovery struct {
	JWKSURI    string   `json:"jwks_uri"`
	Algorithms []string `json:"id_token_signing_alg_values_supported"`
}

func (s *Service) oidcVerifier(ctx context.Context, p *oidcProvider) (*oidc.IDTokenVerifier, *oidcKeySet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.verifier != nil {
		return p.verifier, p.keys, nil
	}
	now := s.cfg.Clock.Now()
	if p.lastErr != nil && now.Sub(p.lastTry) < oidcRetryAfter {
		return nil, nil, p.lastErr
	}
	p.lastTry = now
	client := cappedClient(s.cfg.HTTPClient)
	meta, err := discover(ctx, client, p.cfg.Issuer, p.timeout())
	if err != nil {
		s.cfg.Logger.Warn("OIDC discovery failed", "provider", p.cfg.Name, "issuer", p.cfg.Issuer, "err", err)
		p.lastErr = fault.New(fault.NotReady, "identity provider %s is unavailable; try again later", p.cfg.Name)
		return nil, nil, p.lastErr
	}
	p.lastErr = nil
	// With no algorithms configured, those the discovery document lists
	// that are asymmetric are allowed (RS256 if it lists none), as go-oidc
	// would.
	algs := p.cfg.Algorithms
	if len(algs) == 0 {
		algs = slices.DeleteFunc(meta.Algorithms, func(a string) bool { return !allowedOIDCAlgs[a] })
	}
	if len(algs) == 0 {
		algs = []string{oidc.RS256}
	}
	p.keys = newOIDCKeySet(meta.JWKSURI, client, s.cfg.Clock, p.timeout(), algs)
	p.verifier = oidc.NewVerifier(p.cfg.Issuer, p.keys, &oidc.Config{ClientID: p.cfg.ClientID, SupportedSigningAlgs: algs, Now: s.cfg.Clock.Now})
	return p.verifier, p.keys, nil
}

// discover fetches issuer's discovery document; go-oidc checks that it
// names issuer.
func discover(ctx context.Context, client *http.Client, issuer string, timeout time.Duration) (oidcDiscovery, error) {
	// The discovery serves every later sign-in: the caller leaving does not
	// cut it short, the timeout does.
	dctx, cancel := context.WithTimeout(oidc.ClientContext(context.WithoutCancel(ctx), client), timeout)
	defer cancel()
	prov, err := oidc.NewProvider(dctx, issuer)
	if err != nil {
		return oidcDiscovery{}, err
	}
	var meta oidcDiscovery
	if err := prov.Claims(&meta); err != nil {
		return oidcDiscovery{}, fmt.Errorf("discovery document: %w", err)
	}
	if meta.JWKSURI == "" {
		return oidcDiscovery{}, errors.New("the discovery document names no jwks_uri")
	}
	return meta, nil
}

// OIDC signs in a player with an ID token from a configured provider: the
// token's issuer, audience, expiry and signature (against the provider's
// JWKS, fetched and cached) are checked, and its subject maps to a stable
// identity. A provider whose keys cannot be fetched is fault.NotReady.
func (s *Service) OIDC(ctx context.Context, provider, idToken string) (Tokens, error) {
	p, ok := s.oidc[provider]
	if !ok {
		return Tokens{}, fault.BadField("$.provider", "%q is not a configured identity provider", provider)
	}
	if idToken == "" || len(idToken) > 16*1024 {
		return Tokens{}, fault.New(fault.Unauthenticated, "ID token is not valid")
	}
	v, keys, err := s.oidcVerifier(ctx, p)
	if err != nil {
		return Tokens{}, err
	}
	if err := keys.ensure(ctx, idToken); err != nil {
		return Tokens{}, s.oidcKeysRefusal(p, err)
	}
	tok, err := v.Verify(ctx, idToken)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return Tokens{}, fault.New(fault.Unauthenticated, "ID token has expired")
		}
		s.cfg.Logger.Info("OIDC sign-in refused", "provider", p.cfg.Name, "err", err)
		return Tokens{}, errIDTokenInvalid()
	}
	if tok.Subject == "" || len(tok.Subject) > 255 {
		return Tokens{}, fault.New(fault.Unauthenticated, "ID token has no usable subject")
	}
	return s.signIn(ctx, "oidc:"+provider+":"+tok.Subject, MethodOIDC, "", nil)
}

func errIDTokenInvalid() error {
	return fault.New(fault.Unauthenticated, "ID token is not valid (its issuer, audience or signature)")
}

// oidcKeysRefusal answers a token whose key ensure could not find: not
// valid when the provider's key set, fetched, lacks it, or when its address
// is one Muster refuses to reach (safehttp: retrying would not help); not
// ready when the key set could not be fetched. The cause stays in the log:
// fetching the provider's keys may have failed with what another host
// answered, which is not the caller's to read.
func (s *Service) oidcKeysRefusal(p *oidcProvider, err error) error {
	if errors.Is(err, errOIDCTokenUnusable) || errors.Is(err, errOIDCUnknownKey) || safehttp.IsRefused(err) {
		s.cfg.Logger.Info("OIDC sign-in refused", "provider", p.cfg.Name, "err", err)
		return errIDTokenInvalid()
	}
	s.cfg.Logger.Warn("OIDC key set unavailable", "provider", p.cfg.Name, "err", err)
	return fault.New(fault.NotReady, "identity provider %s is unavailable; try again later", p.cfg.Name)
}

// oidcRefetchAfter is the least time between two fetches of a provider's
// key set: tokens naming keys it does not have (forged ones, say) cost at
// most one fetch per this period.
const oidcRefetchAfter = 10 * time.Second

// maxOIDCResponse caps what Muster reads of a provider's answer (a
// discovery document, a key set): they are a few kilobytes.
const maxOIDCResponse = 1 << 20

var (
	errOIDCTokenUnusable = errors.New("not a compact JWS with one signature in an allowed algorithm")
	errOIDCUnknownKey    = errors.New("the provider's key set has no key with the token's kid")
)

// oidcKeySet is a provider's JWKS as go-oidc's KeySet. Unlike go-oidc's
// RemoteKeySet, it never fetches while verifying: OIDC calls ensure first,
// which fetches only for a kid it does not know, at most once per
// oidcRefetchAfter, each fetch bounded by a timeout, so a forged token
// costs no fetch, a signature that fails with a known key none either, and
// a provider that hangs holds sign-in up for one timeout, not for ever.
type oidcKeySet struct {
	url     string
	client  *http.Client
	clock   clock.Clock
	timeout time.Duration
	algs    []jose.SignatureAlgorithm
	// fetching holds one token while a fetch is decided and made, so that
	// the look-ups waiting for it share its result; the fields after it are
	// guarded by holding that token.
	fetching chan struct{}
	tried    bool
	lastTry  time.Time
	lastErr  error

	mu   sync.RWMutex
	keys []jose.JSONWebKey
}

func newOIDCKeySet(url string, client *http.Client, clk clock.Clock, timeout time.Duration, algs []string) *oidcKeySet {
	ks := &oidcKeySet{url: url, client: client, clock: clk, timeout: timeout, fetching: make(chan struct{}, 1)}
	for _, a := range algs {
		ks.algs = append(ks.algs, jose.SignatureAlgorithm(a))
	}
	return ks
}

// parse reads a token's one signature, refusing algorithms not allowed.
func (ks *oidcKeySet) parse(token string) (*jose.JSONWebSignature, string, error) {
	jws, err := jose.ParseSignedCompact(token, ks.algs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, "", errOIDCTokenUnusable
	}
	return jws, jws.Signatures[0].Header.KeyID, nil
}

// VerifySignature checks token's signature against the keys already
// fetched (go-oidc's KeySet).
func (ks *oidcKeySet) VerifySignature(_ context.Context, token string) ([]byte, error) {
	jws, kid, err := ks.parse(token)
	if err != nil {
		return nil, err
	}
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	for _, k := range ks.keys {
		if kid == "" || k.KeyID == kid {
			if payload, err := jws.Verify(&k); err == nil {
				return payload, nil
			}
		}
	}
	return nil, errors.New("no key of the provider's key set verifies the signature")
}

// knows reports whether a key with kid was fetched (any key, for a token
// without a kid: all are tried).
func (ks *oidcKeySet) knows(kid string) bool {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return slices.ContainsFunc(ks.keys, func(k jose.JSONWebKey) bool { return kid == "" || k.KeyID == kid })
}

// ensure makes sure the key token names has been fetched, fetching the
// key set if it has not and the last fetch is oidcRefetchAfter old. It
// returns errOIDCTokenUnusable or errOIDCUnknownKey for a token no fetch
// can help, and any other error when the key set could not be fetched.
func (ks *oidcKeySet) ensure(ctx context.Context, token string) error {
	_, kid, err := ks.parse(token)
	if err != nil {
		return err
	}
	if ks.knows(kid) {
		return nil
	}
	select {
	case ks.fetching <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("waiting for the provider's key set: %w", ctx.Err())
	}
	defer func() { <-ks.fetching }()
	if ks.knows(kid) {
		return nil // fetched while this look-up waited
	}
	now := ks.clock.Now()
	if !ks.tried || !now.Before(ks.lastTry.Add(oidcRefetchAfter)) {
		ks.tried, ks.lastTry = true, now
		ks.lastErr = ks.refresh(ctx)
	}
	switch {
	case ks.knows(kid):
		return nil
	case ks.lastErr != nil:
		return ks.lastErr
	}
	return errOIDCUnknownKey
}

// refresh fetches the key set and, when that works, replaces the keys.
func (ks *oidcKeySet) refresh(ctx context.Context) error {
	keys, err := ks.fetch(ctx)
	if err != nil {
		return err
	}
	ks.mu.Lock()
	ks.keys = keys
	ks.mu.Unlock()
	return nil
}

// fetch reads the key set. The fetch serves every look-up waiting for it,
// so the caller leaving does not cut it short; its timeout does.
func (ks *oidcKeySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ks.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.url, nil)
	if err != nil {
		return nil, fmt.Errorf("key set %s: %w", ks.url, err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := ks.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("key set %s: %s", ks.url, res.Status)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("key set %s: %w", ks.url, err)
	}
	return parseJWKS(body)
}

// parseJWKS reads a key set, skipping the keys go-jose cannot use (a
// curve or type it does not know): a provider may list them beside the
// keys it signs ID tokens with.
func parseJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, r := range raw.Keys {
		var k jose.JSONWebKey
		if err := json.Unmarshal(r, &k); err == nil && k.Valid() && k.IsPublic() {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// cappedClient is c with every answer's body cut at maxOIDCResponse.
func cappedClient(c *http.Client) *http.Client {
	out := *c
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	out.Transport = cappedBodies{next}
	return &out
}

type cappedBodies struct{ next http.RoundTripper }

func (c cappedBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	res.Body = &cappedBody{ReadCloser: res.Body, left: maxOIDCResponse}
	return res, nil
}

// cappedBody fails a read past its limit, as http.MaxBytesReader does for
// request bodies.
type cappedBody struct {
	io.ReadCloser
	left int64
	err  error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) <= b.left {
		b.left -= int64(n)
		b.err = err
		return n, err
	}
	n, b.left = int(b.left), 0
	b.err = fmt.Errorf("the identity provider's answer is larger than %d bytes", maxOIDCResponse)
	return n, b.err
}
