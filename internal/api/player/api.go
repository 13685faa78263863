package player

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/playerdata"
)

// Defaults of Config.
const (
	DefaultMaxBody       = httpx.MaxBody
	DefaultIPRate        = 50
	DefaultIPBurst       = 100
	DefaultIdentityRate  = 10
	DefaultIdentityBurst = 20
)

// Config configures the API.
type Config struct {
	Identities *identity.Service
	Players    *playerdata.Service
	// RequireOperator authenticates operator routes (httpx.RequireOperator).
	RequireOperator func(http.Handler) http.Handler
	Logger          *slog.Logger
	Clock           clock.Clock
	// MaxBody caps request bodies in bytes (default 1 MiB).
	MaxBody int64
	// CORSOrigins lists the browser origins allowed to call the player API.
	CORSOrigins []string
	// IPRate and IPBurst limit requests per client IP (per second; 0: no
	// limit); IdentityRate and IdentityBurst per authenticated player.
	// ClientIP picks a request's client IP (default ClientIP, the
	// connection's address); behind trusted proxies the server gives one
	// that reads the client they name, so that a load balancer is not one
	// client.
	IPRate, IdentityRate   float64
	IPBurst, IdentityBurst int
	ClientIP               KeyFunc
}

// API is the player API.
type API struct {
	cfg     Config
	log     *slog.Logger
	body    httpx.Body
	cors    *CORS
	byIP    *RateLimiter
	byID    *RateLimiter
	authn   func(http.Handler) http.Handler
	openapi []byte
}

// New returns the API.
func New(cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = ClientIP
	}
	return &API{cfg: cfg, log: cfg.Logger, body: httpx.Body{Limit: cfg.MaxBody}, cors: NewCORS(cfg.CORSOrigins),
		byIP:  NewRateLimiter(cfg.IPRate, cfg.IPBurst, 0, cfg.Clock),
		byID:  NewRateLimiter(cfg.IdentityRate, cfg.IdentityBurst, 0, cfg.Clock),
		authn: Authenticate(cfg.Identities, cfg.Logger), openapi: OpenAPIJSON()}
}

// Route is one registered route.
type Route struct {
	// Pattern is the ServeMux pattern, "METHOD /path".
	Pattern string
	Handler http.Handler
}

// Public wraps a handler that anyone may call: CORS and the per-IP limit.
func (a *API) Public(h http.Handler) http.Handler {
	return a.cors.Middleware(a.byIP.Middleware(a.cfg.ClientIP, a.log)(h))
}

// Protect wraps a player handler: CORS, the per-IP limit, bearer
// authentication and the per-identity limit.
func (a *API) Protect(h http.Handler) http.Handler {
	return a.Public(a.authn(a.byID.Middleware(PlayerIdentity, a.log)(h)))
}

// Preflight answers browsers' CORS preflight requests (OPTIONS) by the
// same origins as Public and Protect. Routes that other packages mount
// behind Protect need it too: a cross-origin call with an Authorization
// header or a JSON body is preflighted, and without an OPTIONS route the
// browser sees the catch-all's 405, which carries no CORS headers, and
// never sends the call.
func (a *API) Preflight() http.Handler { return a.cors.Preflight() }

// Operator wraps an operator handler: operator credentials (SigV4 or a
// bearer access key) and the role: admin when write, any otherwise.
func (a *API) Operator(write bool, h http.Handler) http.Handler {
	return a.cfg.RequireOperator(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := auth.RequireOperator(r.Context(), write); err != nil {
			httpx.WriteError(w, r, a.log, err)
			return
		}
		h.ServeHTTP(w, r)
	}))
}

// Routes lists every route the API serves.
func (a *API) Routes() []Route {
	hf := func(f http.HandlerFunc) http.Handler { return f }
	ids := a.cfg.Identities
	return []Route{
		{"POST /v1/identity/anonymous", a.Public(signIn(a, true, func(ctx context.Context, in anonymousRequest) (identity.Tokens, error) {
			return ids.Anonymous(ctx, in.DeviceID, in.DeviceSecret)
		}))},
		{"POST /v1/identity/developer", a.Operator(true, signIn(a, false, func(ctx context.Context, in developerRequest) (identity.Tokens, error) {
			return ids.Developer(ctx, in.UserID)
		}))},
		{"POST /v1/identity/oidc", a.Public(signIn(a, false, func(ctx context.Context, in oidcRequest) (identity.Tokens, error) {
			return ids.OIDC(ctx, in.Provider, in.IDToken)
		}))},
		{"POST /v1/identity/token", a.Public(signIn(a, false, func(ctx context.Context, in refreshRequest) (identity.Tokens, error) {
			return ids.Refresh(ctx, in.RefreshToken)
		}))},
		{"POST /v1/identity/logout", a.Public(hf(a.logout))},
		{"GET /.well-known/jwks.json", a.cors.Middleware(hf(a.jwks))},
		{"GET /v1/openapi.json", a.cors.Middleware(hf(a.openAPI))},
		{"GET /v1/players/me", a.Protect(hf(a.getMe))},
		{"PATCH /v1/players/me", a.Protect(patchRoute(a, a.patchMe))},
		{"GET /v1/admin/players/{identityId}", a.Operator(false, hf(a.adminGet))},
		{"PATCH /v1/admin/players/{identityId}", a.Operator(true, patchRoute(a, a.adminPatch))},
		{"DELETE /v1/admin/players/{identityId}", a.Operator(true, hf(a.adminDelete))},
		{"OPTIONS /v1/identity/", a.cors.Preflight()},
		{"OPTIONS /v1/players/", a.cors.Preflight()},
		{"OPTIONS /v1/openapi.json", a.cors.Preflight()},
		{"OPTIONS /.well-known/jwks.json", a.cors.Preflight()},
	}
}

// Register mounts every route on mux (an *http.ServeMux or anything with
// its Handle method).
func (a *API) Register(mux interface{ Handle(string, http.Handler) }) {
	for _, rt := range a.Routes() {
		mux.Handle(rt.Pattern, rt.Handler)
	}
}

// decode reads the request's body into v; on failure it has answered.
func (a *API) decode(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	b := a.body
	b.Optional = optional
	return b.Read(w, r, a.log, v)
}

type tokenResponse struct {
	IdentityID   string `json:"identityId"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int    `json:"expiresIn"`
}

// signIn is a route that exchanges a body of type In for tokens.
func signIn[In any](a *API, optional bool, get func(context.Context, In) (identity.Tokens, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in In
		if !a.decode(w, r, &in, optional) {
			return
		}
		t, err := get(r.Context(), in)
		if err != nil {
			httpx.WriteError(w, r, a.log, err)
			return
		}
		status := http.StatusOK
		if t.Created {
			status = http.StatusCreated
		}
		w.Header().Set("Cache-Control", "no-store")
		httpx.WriteJSON(w, status, tokenResponse{IdentityID: t.IdentityID, AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, ExpiresIn: t.ExpiresIn})
	})
}

type anonymousRequest struct {
	DeviceID     string `json:"deviceId"`
	DeviceSecret string `json:"deviceSecret"`
}

type developerRequest struct {
	UserID string `json:"userId" muster:"required"`
}

type oidcRequest struct {
	Provider string `json:"provider" muster:"required"`
	IDToken  string `json:"idToken" muster:"required"`
}

type refreshRequest struct {
	RefreshToken string `json:"refreshToken" muster:"required"`
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	var in refreshRequest
	if !a.decode(w, r, &in, false) {
		return
	}
	if err := a.cfg.Identities.Logout(r.Context(), in.RefreshToken); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// jwksCacheControl lets the key set be cached for identity.JWKSMaxAge: a
// rotated-in key signs only once every copy cached before it was published
// has expired (identity.KeyActivationDelay is derived from the same
// constant).
var jwksCacheControl = "public, max-age=" + strconv.Itoa(int(identity.JWKSMaxAge/time.Second))

func (a *API) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", jwksCacheControl)
	w.Write(a.cfg.Identities.JWKS())
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(a.openapi)
}

func (a *API) writeRecord(w http.ResponseWriter, r *http.Request, rec playerdata.Record, err error) {
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(rec.Version, 10)))
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, rec)
}

// ifMatch reads If-Match: a version as an ETag ("3", W/"3") or bare (3).
func ifMatch(r *http.Request) (playerdata.Condition, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return playerdata.Condition{}, nil
	}
	s := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return playerdata.Condition{}, fault.BadField("If-Match", `must be a record version as an ETag, e.g. "3"`)
	}
	return playerdata.Condition{IfMatch: &n}, nil
}

// patchRoute reads If-Match and a body of type In, then answers the record
// update returns.
func patchRoute[In any](a *API, update func(*http.Request, In, playerdata.Condition) (playerdata.Record, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cond, err := ifMatch(r)
		if err != nil {
			httpx.WriteError(w, r, a.log, err)
			return
		}
		var in In
		if !a.decode(w, r, &in, false) {
			return
		}
		rec, err := update(r, in, cond)
		a.writeRecord(w, r, rec, err)
	}
}

func (a *API) getMe(w http.ResponseWriter, r *http.Request) {
	rec, err := a.cfg.Players.Me(r.Context(), auth.From(r.Context()).IdentityID)
	a.writeRecord(w, r, rec, err)
}

// playerPatch is what a player may send; attributes are accepted by the
// decoder only to be refused with 403 by the service.
type playerPatch struct {
	Data       map[string]json.RawMessage          `json:"data"`
	Attributes map[string]*gamelift.AttributeValue `json:"attributes"`
}

func (a *API) patchMe(r *http.Request, in playerPatch, cond playerdata.Condition) (playerdata.Record, error) {
	return a.cfg.Players.UpdateAsPlayer(r.Context(), auth.From(r.Context()).IdentityID,
		playerdata.Patch{Data: in.Data, Attributes: in.Attributes}, cond)
}

func (a *API) adminGet(w http.ResponseWriter, r *http.Request) {
	rec, err := a.cfg.Players.Get(r.Context(), r.PathValue("identityId"))
	a.writeRecord(w, r, rec, err)
}

type adminPatch struct {
	Attributes map[string]*gamelift.AttributeValue `json:"attributes"`
	Data       map[string]json.RawMessage          `json:"data"`
	// TTLSeconds makes the record expire that long from now; 0 removes
	// the expiry.
	TTLSeconds *int64 `json:"ttlSeconds"`
}

func (a *API) adminPatch(r *http.Request, in adminPatch, cond playerdata.Condition) (playerdata.Record, error) {
	p := playerdata.Patch{Attributes: in.Attributes, Data: in.Data}
	if in.TTLSeconds != nil {
		// Seconds out of range are clamped to one past the range, which
		// the service refuses, so that no Duration overflows on the way.
		maxSeconds := int64(playerdata.MaxTTL / time.Second)
		ttl := time.Duration(min(max(*in.TTLSeconds, -1), maxSeconds+1)) * time.Second
		p.TTL = &ttl
	}
	return a.cfg.Players.Update(r.Context(), r.PathValue("identityId"), p, cond)
}

func (a *API) adminDelete(w http.ResponseWriter, r *http.Request) {
	cond, err := ifMatch(r)
	if err == nil {
		err = a.cfg.Players.Delete(r.Context(), r.PathValue("identityId"), cond)
	}
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
