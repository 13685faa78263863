package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/api/player"
	"github.com/musterhq/muster/internal/hook"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/playerdata"
)

// PlayerConfig configures player identities, their tokens and the player
// API. Zero values take the defaults.
type PlayerConfig struct {
	// TokenIssuer is the iss claim of access tokens (default "muster").
	TokenIssuer string
	// SigningAlg is the algorithm of new signing keys: EdDSA (default) or ES256.
	SigningAlg           string
	AccessTokenLifetime  time.Duration
	RefreshTokenLifetime time.Duration
	// OIDCProvidersFile is a JSON array of identity.OIDCProvider.
	OIDCProvidersFile string
	// OIDCProviders are used when OIDCProvidersFile is empty (tests).
	OIDCProviders []identity.OIDCProvider
	CORSOrigins   []string
	// MaxBody caps player API request bodies (default 1 MiB).
	MaxBody int64
	// IPRate and IdentityRate are requests per second (0: the default; a
	// negative value: no limit), with bursts IPBurst and IdentityBurst.
	IPRate, IdentityRate   float64
	IPBurst, IdentityBurst int
	// WritableKeys are the data keys players may change themselves.
	WritableKeys []string
	// RecordTTL, when set, is the expiry of newly made player records.
	RecordTTL time.Duration
}

// playerParts are what mountIdentity makes that the capabilities mounted
// after it use: matchmaking reads attributes from players and wraps its
// player routes with api.Protect (and documents them in the same
// openapi.yaml).
type playerParts struct {
	identities *identity.Service
	players    *playerdata.Service
	api        *player.API
	// hooks are the studio's hooks: sign-in runs them, and matchmaking
	// for tickets and proposed matches.
	hooks *hook.Service
}

func orDefault[T int | float64](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// mountIdentity mounts player identities, the player data table and the
// player API, and runs the sweep of operator keys that revokes the
// transient keys a crashed run left (identity.TransientKey).
func (s *Server) mountIdentity(d *deps) {
	s.background = append(s.background, s.keys.RunTransientSweep)
	pc := s.cfg.Player
	providers := pc.OIDCProviders
	if pc.OIDCProvidersFile != "" {
		var err error
		if providers, err = identity.LoadOIDCProviders(pc.OIDCProvidersFile); err != nil {
			s.mountErr = fmt.Errorf("--oidc-providers: %w", err)
			return
		}
	}
	players, err := playerdata.New(playerdata.Config{Base: d.base(),
		PlayerWritable: pc.WritableKeys, DefaultTTL: pc.RecordTTL})
	if err != nil {
		s.mountErr = err
		return
	}
	hooks := s.newHooks(d, players)
	ids, err := identity.Open(context.Background(), identity.Config{
		Base: d.base(), Box: d.box,
		Issuer: pc.TokenIssuer, SigningAlg: jose.SignatureAlgorithm(pc.SigningAlg),
		AccessTokenLifetime: pc.AccessTokenLifetime, RefreshTokenLifetime: pc.RefreshTokenLifetime,
		OIDCProviders: providers, Gate: hooks,
		HTTPClient: s.oidcClient(),
	})
	if err != nil {
		s.mountErr = err
		return
	}
	api := player.New(player.Config{
		Identities: ids, Players: players, RequireOperator: d.requireOperator, Logger: d.log, Clock: d.clock,
		MaxBody: pc.MaxBody, CORSOrigins: pc.CORSOrigins,
		IPRate: orDefault(pc.IPRate, player.DefaultIPRate), IPBurst: orDefault(pc.IPBurst, player.DefaultIPBurst),
		IdentityRate: orDefault(pc.IdentityRate, player.DefaultIdentityRate), IdentityBurst: orDefault(pc.IdentityBurst, player.DefaultIdentityBurst),
		ClientIP: s.playerClientIP,
	})
	api.Register(d.mux)
	d.player = &playerParts{identities: ids, players: players, api: api, hooks: hooks}
	s.background = append(s.background, ids.Run)
}

// playerClientIP keys the player API's per-IP limit as the connection caps
// key clients: by the client a --trusted-proxies proxy names in
// X-Forwarded-For, else by the connection's address (with --proxy-protocol,
// already the client's), an IPv6 client by its /64 either way. Without it
// every player behind an HTTP load balancer would share the balancer's one
// bucket.
func (s *Server) playerClientIP(r *http.Request) string {
	if a, ok := s.limiter.ForwardedClient(r); ok {
		return httpx.ClientKey(a)
	}
	return player.ClientIP(r)
}

// oidcTimeout bounds each request to an OIDC provider: one that accepts
// the connection and never answers fails the sign-ins waiting for it then
// (with 503), rather than holding them and its key set's refresh for ever.
const oidcTimeout = 10 * time.Second

// oidcClient is the HTTP client of OIDC discovery and key set fetches. The
// operator names each issuer, which may well be on a private network; what
// discovery names after it (the key set's address) still never reaches
// metadata nor Muster's own listeners.
func (s *Server) oidcClient() *http.Client {
	cfg := s.outbound(true)
	cfg.ResponseHeaderTimeout = oidcTimeout
	c := cfg.Client()
	c.Timeout = oidcTimeout
	return c
}
