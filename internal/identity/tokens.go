package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
)

// MaxTokenLen bounds the length of an access token that Verify will parse.
const MaxTokenLen = 4096

// allowedAlgs is the allow-list that rejects alg "none" and HMAC with a
// public key before any signature is looked at.
var allowedAlgs = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256}

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

// IssueAccessToken signs an access token for identityID in session sid.
func (s *Service) IssueAccessToken(identityID, sid string) (string, time.Time, error) {
	ring := s.ring.Load()
	now := s.cfg.Clock.Now()
	exp := now.Add(s.cfg.AccessTokenLifetime)
	c := accessClaims{Claims: jwt.Claims{
		Issuer: s.cfg.Issuer, Subject: identityID, Audience: jwt.Audience{Audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(exp),
	}, SID: sid}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", time.Time{}, err
	}
	obj, err := ring.signer.Sign(payload)
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
	s.verified.put(tok, claims, ring.signerKID, now)
	return tok, claims.ExpiresAt, nil
}

func unauthenticated(format string, args ...any) error {
	return fault.New(fault.Unauthenticated, format, args...)
}

// Verify checks an access token: its algorithm (EdDSA or ES256 only), its
// key id (a key this server trusts), its signature, issuer, audience,
// validity period (no leeway: Muster issues and checks its own tokens) and
// that its session was not revoked. Failures are fault.Unauthenticated.
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
	if c.Expiry == nil || c.NotBefore == nil || c.Subject == "" {
		return Claims{}, unauthenticated("access token lacks exp, nbf or sub")
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: s.cfg.Issuer, AnyAudience: jwt.Audience{Audience}, Time: now}, 0); err != nil {
		return Claims{}, unauthenticated("access token is not valid: %v", err)
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
	if now.Before(c.IssuedAt) {
		return unauthenticated("access token is not valid yet")
	}
	if k, ok := s.ring.Load().trusted[kid]; !ok || (!k.until.IsZero() && !now.Before(k.until)) {
		return unauthenticated("access token is signed with a key that is no longer trusted")
	}
	if c.SessionID != "" {
		s.revokedMu.RLock()
		_, revoked := s.revoked[c.SessionID]
		s.revokedMu.RUnlock()
		if revoked {
			return unauthenticated("access token's session was revoked")
		}
	}
	return nil
}

// trustedKey finds the key kid; an unknown kid triggers one reload from
// the store at most once a second (a key rotated by another process).
func (s *Service) trustedKey(ctx context.Context, kid string, now time.Time) (trustedKey, bool) {
	k, ok := s.ring.Load().trusted[kid]
	if !ok && kid != "" && len(kid) <= 64 && s.reloadMu.TryLock() {
		if now.Sub(s.lastLoad) >= time.Second {
			if err := s.reloadLocked(ctx); err != nil {
				s.cfg.Logger.Warn("reloading signing keys failed", "err", err)
			}
		}
		s.reloadMu.Unlock()
		k, ok = s.ring.Load().trusted[kid]
	}
	if ok && !k.until.IsZero() && !now.Before(k.until) {
		return k, false
	}
	return k, ok
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

const kindRevokedSession = "revokedsession"

// loadRevoked reads the revoked sessions whose access tokens may still be
// alive.
func (s *Service) loadRevoked(ctx context.Context) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		return store.Walk(ctx, r, store.Query{Kind: kindRevokedSession, Prefix: true}, func(it store.Item) error {
			out[it.ID] = it.ExpiresAt
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load revoked sessions: %w", err)
	}
	return out, nil
}

// rememberRevoked records, inside w's transaction, that session sid's
// access tokens are refused; after commit this process refuses them at once
// and other replicas within RefreshInterval.
func (s *Service) rememberRevoked(ctx context.Context, w store.Writer, sid string, now time.Time) error {
	until := now.Add(s.cfg.AccessTokenLifetime + time.Minute)
	if _, err := w.Put(ctx, store.Record{Kind: kindRevokedSession, ID: sid, Doc: []byte(`{}`), Upsert: true, ExpiresAt: until}); err != nil {
		return err
	}
	w.AfterCommit(func() {
		s.revokedMu.Lock()
		s.revoked[sid] = until
		s.revokedMu.Unlock()
	})
	return nil
}
