package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
)

// Defaults and bounds of the player token configuration.
const (
	DefaultIssuer               = "muster"
	DefaultAccessTokenLifetime  = time.Hour
	MaxAccessTokenLifetime      = 24 * time.Hour
	DefaultRefreshTokenLifetime = 30 * 24 * time.Hour
	// MaxRefreshInterval bounds RefreshInterval and is its default: a new
	// signing key signs KeyActivationDelay after its rotation, which
	// counts on every replica reloading keys at least this often.
	MaxRefreshInterval = 10 * time.Second
	// Audience is the aud claim of every player access token; it keeps
	// Muster's tokens apart from any other JWT signed by the same issuer.
	Audience = "muster-player"
)

// Config configures the player identity service.
type Config struct {
	// Base gives the store, clock and logger (ARNs, Formats and Tags are
	// not used).
	service.Base
	Box *secret.Box
	// Issuer is the iss claim of access tokens (default "muster").
	Issuer string
	// SigningAlg is the algorithm of newly generated signing keys: EdDSA
	// (default) or ES256. Keys made earlier keep their own algorithm.
	SigningAlg jose.SignatureAlgorithm
	// AccessTokenLifetime is how long an access token is valid (default 1 h,
	// at most 24 h).
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime is how long a session lives without being
	// refreshed (default 30 days).
	RefreshTokenLifetime time.Duration
	// OIDCProviders are the external identity providers players may sign in
	// with.
	OIDCProviders []OIDCProvider
	// HTTPClient fetches OIDC discovery documents and key sets (default: a
	// client with a 10 s timeout).
	HTTPClient *http.Client
	// RefreshInterval is how often Run reloads signing keys and revoked
	// sessions that other processes (muster keys rotate-signing, other
	// replicas) wrote (default and at most MaxRefreshInterval, 10 s).
	RefreshInterval time.Duration
	// VerifyCacheSize bounds the cache of already verified access tokens
	// (default 65,536).
	VerifyCacheSize int
	// Gate, when set, may refuse each sign-in and each refresh before
	// tokens are issued (the studio's hooks, package hook).
	Gate SignInGate
}

// Service manages player identities: how players sign in (anonymous,
// device, developer-authenticated, OpenID Connect), the access tokens
// (JWTs) and refresh-token sessions they get, and the signing keys that
// make and check those tokens. It is safe for concurrent use.
type Service struct {
	cfg  Config
	oidc map[string]*oidcProvider

	// ring is the current *keyring (signing keys and trusted public keys).
	ring     atomicRing
	reloadMu sync.Mutex // serialises reloads; never held on the verify path
	// revokedCursor is the id of the last revocation read (guarded by
	// reloadMu): a reload reads only those after it.
	revokedCursor string
	unknownKID    keyMiss
	verified      verifyCache
	revoked       revokedSessions
}

// Open returns the service, creating the first signing key when the store
// has none and loading keys and revoked sessions.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Box == nil {
		return nil, errors.New("identity: Store and Box are required")
	}
	cfg.Base = cfg.Base.WithDefaults()
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.SigningAlg == "" {
		cfg.SigningAlg = jose.EdDSA
	}
	if cfg.SigningAlg != jose.EdDSA && cfg.SigningAlg != jose.ES256 {
		return nil, fmt.Errorf("identity: signing algorithm %q: must be EdDSA or ES256", cfg.SigningAlg)
	}
	if cfg.AccessTokenLifetime == 0 {
		cfg.AccessTokenLifetime = DefaultAccessTokenLifetime
	}
	if cfg.AccessTokenLifetime < time.Minute || cfg.AccessTokenLifetime > MaxAccessTokenLifetime {
		return nil, fmt.Errorf("identity: access token lifetime %v: must be 1m to %v", cfg.AccessTokenLifetime, MaxAccessTokenLifetime)
	}
	if cfg.RefreshTokenLifetime == 0 {
		cfg.RefreshTokenLifetime = DefaultRefreshTokenLifetime
	}
	if cfg.RefreshTokenLifetime < cfg.AccessTokenLifetime {
		return nil, fmt.Errorf("identity: refresh token lifetime %v is shorter than the access token lifetime %v", cfg.RefreshTokenLifetime, cfg.AccessTokenLifetime)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = MaxRefreshInterval
	}
	if cfg.RefreshInterval > MaxRefreshInterval {
		return nil, fmt.Errorf("identity: refresh interval %v: at most %v, which a new signing key's activation delay counts on", cfg.RefreshInterval, MaxRefreshInterval)
	}
	if cfg.VerifyCacheSize <= 0 {
		cfg.VerifyCacheSize = 1 << 16
	}
	s := &Service{cfg: cfg, oidc: map[string]*oidcProvider{}}
	s.verified.init(cfg.VerifyCacheSize)
	s.revoked.init()
	for _, p := range cfg.OIDCProviders {
		if _, dup := s.oidc[p.Name]; dup {
			return nil, fmt.Errorf("identity: OIDC provider %q is configured twice", p.Name)
		}
		s.oidc[p.Name] = &oidcProvider{cfg: p}
	}
	keys := s.signingKeys()
	if err := keys.Ensure(ctx); err != nil {
		return nil, err
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the signing keys and revoked sessions from the store, so
// that a key rotated by `muster keys rotate-signing` or a session revoked on
// another replica takes effect here.
func (s *Service) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.reloadLocked(ctx)
}

// reloadLocked expects reloadMu held. Keys are read in full (there are a
// handful); numbered revocations only from where the last reload stopped.
func (s *Service) reloadLocked(ctx context.Context) error {
	now := s.cfg.Clock.Now()
	ring, err := s.signingKeys().load(ctx, now, s.cfg.AccessTokenLifetime)
	if err != nil {
		return err
	}
	revoked, cursor, err := s.loadRevocations(ctx, s.revokedCursor)
	if err != nil {
		return err
	}
	s.ring.Store(ring)
	s.revoked.add(revoked, now)
	s.revokedCursor = cursor
	return nil
}

// Run reloads keys and revoked sessions every RefreshInterval until ctx
// ends.
func (s *Service) Run(ctx context.Context) error {
	return s.cfg.Every(ctx, s.cfg.RefreshInterval, "reloading signing keys and revoked sessions failed", s.Reload)
}
