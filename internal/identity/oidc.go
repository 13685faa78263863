package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/musterhq/muster/internal/fault"
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

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	lastErr  error
	lastTry  time.Time
}

const oidcRetryAfter = 5 * time.Second

func (s *Service) oidcVerifier(ctx context.Context, p *oidcProvider) (*oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.verifier != nil {
		return p.verifier, nil
	}
	now := s.cfg.Clock.Now()
	if p.lastErr != nil && now.Sub(p.lastTry) < oidcRetryAfter {
		return nil, p.lastErr
	}
	p.lastTry = now
	// go-oidc keeps the context its key set is built with to find the HTTP
	// client of later JWKS fetches.
	holder := oidc.ClientContext(context.WithoutCancel(ctx), s.cfg.HTTPClient)
	dctx, cancel := context.WithTimeout(holder, 10*time.Second)
	defer cancel()
	prov, err := oidc.NewProvider(dctx, p.cfg.Issuer)
	if err != nil {
		s.cfg.Logger.Warn("OIDC discovery failed", "provider", p.cfg.Name, "issuer", p.cfg.Issuer, "err", err)
		p.lastErr = fault.New(fault.NotReady, "identity provider %s is unavailable; try again later", p.cfg.Name)
		return nil, p.lastErr
	}
	p.lastErr = nil
	// With no algorithms configured, go-oidc takes the asymmetric ones the
	// discovery document lists (RS256 if it lists none).
	p.verifier = prov.VerifierContext(holder, &oidc.Config{ClientID: p.cfg.ClientID, SupportedSigningAlgs: p.cfg.Algorithms, Now: s.cfg.Clock.Now})
	return p.verifier, nil
}

// OIDC signs in a player with an ID token from a configured provider: the
// token's issuer, audience, expiry and signature (against the provider's
// JWKS, fetched and cached) are checked, and its subject maps to a stable
// identity.
func (s *Service) OIDC(ctx context.Context, provider, idToken string) (Tokens, error) {
	p, ok := s.oidc[provider]
	if !ok {
		return Tokens{}, fault.BadField("$.provider", "%q is not a configured identity provider", provider)
	}
	if idToken == "" || len(idToken) > 16*1024 {
		return Tokens{}, unauthenticated("ID token is not valid")
	}
	v, err := s.oidcVerifier(ctx, p)
	if err != nil {
		return Tokens{}, err
	}
	tok, err := v.Verify(ctx, idToken)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return Tokens{}, unauthenticated("ID token has expired")
		}
		// The cause stays in the log: fetching the provider's keys may have
		// failed with what another host answered, which is not the
		// caller's to read.
		s.cfg.Logger.Info("OIDC sign-in refused", "provider", p.cfg.Name, "err", err)
		return Tokens{}, unauthenticated("ID token is not valid (its issuer, audience or signature)")
	}
	if tok.Subject == "" || len(tok.Subject) > 255 {
		return Tokens{}, unauthenticated("ID token has no usable subject")
	}
	return s.signIn(ctx, "oidc:"+provider+":"+tok.Subject, MethodOIDC, "", nil)
}
