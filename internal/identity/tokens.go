package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/musterhq/muster/internal/fault"
)

// MaxTokenLen bounds the length of an access token that Verify will parse.
const MaxTokenLen = 4096

// allowedAlgs is the allow-list that rejects alg "none" and HMAC with a
// public key before any signature is looked at.
var allowedAlgs = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256}

// clockLeeway is how far in this process's future a token's iat and nbf
// may be: another replica may have signed it with a clock a little ahead
// (iat is also rounded down to the second, which helps only one way). exp
// gets none: a token is never accepted here after it has expired here.
const clockLeeway = 5 * time.Second

// unknownKIDReloadGap is the least time between two reloads that tokens
// with an unknown kid ask for, so that forged kids cannot make every
// request read the store. A rotated-in key is published long before it
// signs (KeyActivationDelay), so a replica meets a genuine unknown kid only
// when its periodic reloads have failed.
const unknownKIDReloadGap = time.Second

// Claims is what a verified access token says.
type Claims struct {
	// IdentityID is the subject.
	IdentityID string
	// SessionID is the refresh-token session the token was issued in.
	SessionID string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

type accessClaims struct {
	jwt.Claims
	SID string `json:"sid,omitempty"`
}

// IssueAccessToken signs an access token for identityID in session sid,
// with the key that signs now.
func (s *Service) IssueAccessToken(identityID, sid string) (string, time.Time, error) {
	if sid == "" {
		// Revocation works by session: a token without one could not be
		// ended by logout.
		return "", time.Time{}, errors.New("sign access token: a session id is required")
	}
	now := s.cfg.Clock.Now()
	signer := s.ring.Load().signerAt(now)
	exp := now.Add(s.cfg.AccessTokenLifetime)
	c := accessClaims{Claims: jwt.Claims{
		Issuer: s.cfg.Issuer, Subject: identityID, Audience: jwt.Audience{Audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(exp),
	}, SID: sid}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	obj, err := signer.signer.Sign(payload)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	// A client uses its token at once, mostly on this process: what the
	// token says is known here, so its first use need not check the
	// signature just made (an Ed25519 verification costs twice the
	// signing). The claims are those Verify would read back, truncated to
	// seconds as the token carries them.
	claims := Claims{IdentityID: identityID, SessionID: sid,
		IssuedAt: time.Unix(now.Unix(), 0), ExpiresAt: time.Unix(exp.Unix(), 0)}
	s.verified.put(tok, claims, signer.kid, now)
	return tok, claims.ExpiresAt, nil
}

func unauthenticated(format string, args ...any) error {
	return fault.New(fault.Unauthenticated, format, args...)
}

// Verify checks an access token: its algorithm (EdDSA or ES256 only), its
// key id (a key this server trusts), its signature, issuer, audience,
// validity period (clockLeeway on iat and nbf only), that it lives no
// longer than AccessTokenLifetime, and that it names a session (sid) that
// was not revoked. Failures are fault.Unauthenticated.
//
// A token whose signature was checked once, or that this process issued,
// is remembered until it expires, so a client's requests cost a map
// look-up instead of a signature check; the time, key and revocation
// checks run on every call.
func (s *Service) Verify(ctx context.Context, token string) (Claims, error) {
	now := s.cfg.Clock.Now()
	if c, kid, ok := s.verified.get(token); ok {
		if err := s.checkLive(c, kid, now); err != nil {
			return Claims{}, err
		}
		return c, nil
	}
	if len(token) > MaxTokenLen {
		return Claims{}, unauthenticated("access token is longer than %d bytes", MaxTokenLen)
	}
	tok, err := jwt.ParseSigned(token, allowedAlgs)
	if err != nil {
		return Claims{}, unauthenticated("access token is malformed or uses an algorithm other than EdDSA or ES256")
	}
	if len(tok.Headers) != 1 {
		return Claims{}, unauthenticated("access token must have exactly one signature")
	}
	h := tok.Headers[0]
	key, ok := s.trustedKey(ctx, h.KeyID, now)
	if !ok {
		return Claims{}, unauthenticated("access token is signed with an unknown key")
	}
	if key.alg != jose.SignatureAlgorithm(h.Algorithm) {
		return Claims{}, unauthenticated("access token's algorithm does not match its key")
	}
	var c accessClaims
	if err := tok.Claims(key.key, &c); err != nil {
		return Claims{}, unauthenticated("access token signature is not valid")
	}
	if c.Expiry == nil || c.NotBefore == nil || c.IssuedAt == nil || c.Subject == "" || c.SID == "" {
		return Claims{}, unauthenticated("access token lacks exp, nbf, iat, sub or sid")
	}
	// The leeway applies to exp too here; checkLive holds exp to the second.
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: s.cfg.Issuer, AnyAudience: jwt.Audience{Audience}, Time: now}, clockLeeway); err != nil {
		return Claims{}, unauthenticated("access token is not valid: %v", err)
	}
	// A revocation holds here for this process's lifetime (revokedUntil): a
	// token that lives longer, issued where or when the lifetime was longer,
	// would outlive its logout.
	if c.Expiry.Time().Sub(c.IssuedAt.Time()) > s.cfg.AccessTokenLifetime+clockLeeway {
		return Claims{}, unauthenticated("access token lives longer than this server's access token lifetime")
	}
	out := Claims{IdentityID: c.Subject, SessionID: c.SID, IssuedAt: c.IssuedAt.Time(), ExpiresAt: c.Expiry.Time()}
	if c.NotBefore.Time().After(out.IssuedAt) {
		out.IssuedAt = c.NotBefore.Time()
	}
	if err := s.checkLive(out, h.KeyID, now); err != nil {
		return Claims{}, err
	}
	s.verified.put(token, out, h.KeyID, now)
	return out, nil
}

// checkLive is what Verify checks on every call, cached or not.
func (s *Service) checkLive(c Claims, kid string, now time.Time) error {
	if !now.Before(c.ExpiresAt) {
		return unauthenticated("access token has expired")
	}
	if now.Add(clockLeeway).Before(c.IssuedAt) {
		return unauthenticated("access token is not valid yet")
	}
	if k, ok := s.ring.Load().trusted[kid]; !ok || (!k.until.IsZero() && !now.Before(k.until)) {
		return unauthenticated("access token is signed with a key that is no longer trusted")
	}
	if c.SessionID == "" || s.revoked.has(c.SessionID) {
		return unauthenticated("access token names no session or a revoked one")
	}
	return nil
}

// trustedKey finds the key kid. An unknown kid makes the service reload,
// or wait for the reload already in progress, and look again.
func (s *Service) trustedKey(ctx context.Context, kid string, now time.Time) (trustedKey, bool) {
	k, ok := s.ring.Load().trusted[kid]
	if !ok && kid != "" && len(kid) <= 64 {
		s.reloadForUnknownKID(ctx, now)
		k, ok = s.ring.Load().trusted[kid]
	}
	if ok && !k.until.IsZero() && !now.Before(k.until) {
		return k, false
	}
	return k, ok
}

// keyMiss coordinates the reloads that unknown kids ask for: one at a
// time, at most one per unknownKIDReloadGap, and every token that meets an
// unknown kid while one runs waits for it rather than being refused at
// once (a burst of first uses of a new key would otherwise see all but one
// refused).
type keyMiss struct {
	mu sync.Mutex
	// running is closed when the reload in progress ends; nil when none.
	running chan struct{}
	last    time.Time // when the last one began
}

// reloadForUnknownKID waits for the reload in progress, if any, or else
// reloads, unless the last reload it ran began less than
// unknownKIDReloadGap before now. A waiter whose ctx ends stops waiting.
func (s *Service) reloadForUnknownKID(ctx context.Context, now time.Time) {
	m := &s.unknownKID
	m.mu.Lock()
	if done := m.running; done != nil {
		m.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
		}
		return
	}
	if !m.last.IsZero() && now.Sub(m.last) < unknownKIDReloadGap {
		m.mu.Unlock()
		return
	}
	done := make(chan struct{})
	m.running, m.last = done, now
	m.mu.Unlock()
	// Others wait for this reload, so one caller's cancellation must not
	// end it for them.
	if err := s.Reload(context.WithoutCancel(ctx)); err != nil {
		s.cfg.Logger.Warn("reloading signing keys failed", "err", err)
	}
	m.mu.Lock()
	m.running = nil
	m.mu.Unlock()
	close(done)
}

// verifyCache remembers tokens whose signature checked out. It is bounded:
// when full it drops expired entries, and if that frees too little, an
// arbitrary quarter of the rest (they are verified again when next seen).
type verifyCache struct {
	mu      sync.RWMutex
	max     int
	entries map[string]cachedToken
}

type cachedToken struct {
	claims Claims
	kid    string
}

func (v *verifyCache) init(max int) {
	v.max = max
	v.entries = make(map[string]cachedToken)
}

func (v *verifyCache) get(token string) (Claims, string, bool) {
	v.mu.RLock()
	e, ok := v.entries[token]
	v.mu.RUnlock()
	return e.claims, e.kid, ok
}

func (v *verifyCache) put(token string, c Claims, kid string, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.entries) >= v.max {
		for k, e := range v.entries {
			if !now.Before(e.claims.ExpiresAt) {
				delete(v.entries, k)
			}
		}
		for k := range v.entries {
			if len(v.entries) < v.max*3/4 {
				break
			}
			delete(v.entries, k)
		}
	}
	v.entries[token] = cachedToken{claims: c, kid: kid}
}
