package player

import (
	"encoding/json"
	"errors"
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
	DefaultMaxBody       = 1 << 20
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
	IPRate, IdentityRate   float64
	IPBurst, IdentityBurst int
}

// API is the player API.
type API struct {
	cfg     Config
	log     *slog.Logger
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
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	a := &API{cfg: cfg, log: cfg.Logger, cors: NewCORS(cfg.CORSOrigins),
		byIP:  NewRateLimiter(cfg.IPRate, cfg.IPBurst, 0, cfg.Clock),
		byID:  NewRateLimiter(cfg.IdentityRate, cfg.IdentityBurst, 0, cfg.Clock),
		authn: Authenticate(cfg.Identities, cfg.Logger), openapi: OpenAPIJSON()}
	return a
}

// Route is one registered route.
type Route struct {
	// Pattern is the ServeMux pattern, "METHOD /path".
	Pattern string
	Handler http.Handler
}

// Public wraps a handler that anyone may call: CORS and the per-IP limit.
func (a *API) Public(h http.Handler) http.Handler {
	return a.cors.Middleware(a.byIP.Middleware(ClientIP, a.log)(h))
}

// Protect wraps a player handler: CORS, the per-IP limit, bearer
// authentication and the per-identity limit.
func (a *API) Protect(h http.Handler) http.Handler {
	return a.Public(a.authn(a.byID.Middleware(PlayerIdentity, a.log)(h)))
}

// Operator wraps an operator handler: operator credentials (SigV4 or a
// bearer access key); the handler checks the role.
func (a *API) Operator(h http.Handler) http.Handler { return a.cfg.RequireOperator(h) }

// Routes lists every route the API serves.
func (a *API) Routes() []Route {
	hf := func(f http.HandlerFunc) http.Handler { return f }
	return []Route{
		{"POST /v1/identity/anonymous", a.Public(hf(a.anonymous))},
		{"POST /v1/identity/developer", a.Operator(hf(a.developer))},
		{"POST /v1/identity/oidc", a.Public(hf(a.oidc))},
		{"POST /v1/identity/token", a.Public(hf(a.token))},
		{"POST /v1/identity/logout", a.Public(hf(a.logout))},
		{"GET /.well-known/jwks.json", a.cors.Middleware(hf(a.jwks))},
		{"GET /v1/openapi.json", a.cors.Middleware(hf(a.openAPI))},
		{"GET /v1/players/me", a.Protect(hf(a.getMe))},
		{"PATCH /v1/players/me", a.Protect(hf(a.patchMe))},
		{"GET /v1/admin/players/{identityId}", a.Operator(hf(a.adminGet))},
		{"PATCH /v1/admin/players/{identityId}", a.Operator(hf(a.adminPatch))},
		{"DELETE /v1/admin/players/{identityId}", a.Operator(hf(a.adminDelete))},
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

// writeError answers err: a body too large is 413, a non-JSON body 415,
// everything else through httpx.WriteError.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var tl *tooLargeError
	switch {
	case errors.As(err, &tl):
		writeProblem(w, r, http.StatusRequestEntityTooLarge, "TooLarge", tl.Error())
	case errors.Is(err, errMediaType):
		writeProblem(w, r, http.StatusUnsupportedMediaType, "UnsupportedMediaType", err.Error())
	default:
		httpx.WriteError(w, r, a.log, err)
	}
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(httpx.Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: detail, RequestID: httpx.RequestID(r.Context())})
}

func (a *API) decode(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	if err := DecodeRequest(w, r, a.cfg.MaxBody, v, optional); err != nil {
		a.writeError(w, r, err)
		return false
	}
	return true
}

type tokenResponse struct {
	IdentityID   string `json:"identityId"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int    `json:"expiresIn"`
}

func (a *API) writeTokens(w http.ResponseWriter, r *http.Request, t identity.Tokens, err error) {
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if t.Created {
		status = http.StatusCreated
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, status, tokenResponse{IdentityID: t.IdentityID, AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, ExpiresIn: t.ExpiresIn})
}

type anonymousRequest struct {
	DeviceID     string `json:"deviceId"`
	DeviceSecret string `json:"deviceSecret"`
}

func (a *API) anonymous(w http.ResponseWriter, r *http.Request) {
	var in anonymousRequest
	if !a.decode(w, r, &in, true) {
		return
	}
	t, err := a.cfg.Identities.Anonymous(r.Context(), in.DeviceID, in.DeviceSecret)
	a.writeTokens(w, r, t, err)
}

type developerRequest struct {
	UserID string `json:"userId" muster:"required"`
}

func (a *API) developer(w http.ResponseWriter, r *http.Request) {
	if err := auth.RequireOperator(r.Context(), true); err != nil {
		a.writeError(w, r, err)
		return
	}
	var in developerRequest
	if !a.decode(w, r, &in, false) {
		return
	}
	t, err := a.cfg.Identities.Developer(r.Context(), in.UserID)
	a.writeTokens(w, r, t, err)
}

type oidcRequest struct {
	Provider string `json:"provider" muster:"required"`
	IDToken  string `json:"idToken" muster:"required"`
}

func (a *API) oidc(w http.ResponseWriter, r *http.Request) {
	var in oidcRequest
	if !a.decode(w, r, &in, false) {
		return
	}
	t, err := a.cfg.Identities.OIDC(r.Context(), in.Provider, in.IDToken)
	a.writeTokens(w, r, t, err)
}

type refreshRequest struct {
	RefreshToken string `json:"refreshToken" muster:"required"`
}

func (a *API) token(w http.ResponseWriter, r *http.Request) {
	var in refreshRequest
	if !a.decode(w, r, &in, false) {
		return
	}
	t, err := a.cfg.Identities.Refresh(r.Context(), in.RefreshToken)
	a.writeTokens(w, r, t, err)
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	var in refreshRequest
	if !a.decode(w, r, &in, false) {
		return
	}
	if err := a.cfg.Identities.Logout(r.Context(), in.RefreshToken); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(a.cfg.Identities.JWKS())
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(a.openapi)
}

func (a *API) writeRecord(w http.ResponseWriter, rec playerdata.Record, err error, r *http.Request) {
	if err != nil {
		a.writeError(w, r, err)
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
		return playerdata.Condition{}, &fault.Error{Kind: fault.Invalid, Message: "1 validation error detected",
			Fields: []fault.FieldError{{Field: "If-Match", Reason: `must be a record version as an ETag, e.g. "3"`}}}
	}
	return playerdata.Condition{IfMatch: &n}, nil
}

func (a *API) getMe(w http.ResponseWriter, r *http.Request) {
	rec, err := a.cfg.Players.Me(r.Context(), auth.From(r.Context()).IdentityID)
	a.writeRecord(w, rec, err, r)
}

// playerPatch is what a player may send; attributes are accepted by the
// decoder only to be refused with 403 by the service.
type playerPatch struct {
	Data       map[string]json.RawMessage          `json:"data"`
	Attributes map[string]*gamelift.AttributeValue `json:"attributes"`
}

func (a *API) patchMe(w http.ResponseWriter, r *http.Request) {
	cond, err := ifMatch(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var in playerPatch
	if !a.decode(w, r, &in, false) {
		return
	}
	rec, err := a.cfg.Players.UpdateAsPlayer(r.Context(), auth.From(r.Context()).IdentityID,
		playerdata.Patch{Data: in.Data, Attributes: in.Attributes}, cond)
	a.writeRecord(w, rec, err, r)
}

func (a *API) adminGet(w http.ResponseWriter, r *http.Request) {
	if err := auth.RequireOperator(r.Context(), false); err != nil {
		a.writeError(w, r, err)
		return
	}
	rec, err := a.cfg.Players.Get(r.Context(), r.PathValue("identityId"))
	a.writeRecord(w, rec, err, r)
}

type adminPatch struct {
	Attributes map[string]*gamelift.AttributeValue `json:"attributes"`
	Data       map[string]json.RawMessage          `json:"data"`
	// TTLSeconds makes the record expire that long from now; 0 removes
	// the expiry.
	TTLSeconds *int64 `json:"ttlSeconds"`
}

func (a *API) adminPatch(w http.ResponseWriter, r *http.Request) {
	if err := auth.RequireOperator(r.Context(), true); err != nil {
		a.writeError(w, r, err)
		return
	}
	cond, err := ifMatch(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var in adminPatch
	if !a.decode(w, r, &in, false) {
		return
	}
	p := playerdata.Patch{Attributes: in.Attributes, Data: in.Data}
	if in.TTLSeconds != nil {
		if *in.TTLSeconds < 0 || *in.TTLSeconds > int64(playerdata.MaxTTL/time.Second) {
			a.writeError(w, r, &fault.Error{Kind: fault.Invalid, Message: "1 validation error detected",
				Fields: []fault.FieldError{{Field: "$.ttlSeconds", Reason: "must be 0 to " + strconv.FormatInt(int64(playerdata.MaxTTL/time.Second), 10)}}})
			return
		}
		ttl := time.Duration(*in.TTLSeconds) * time.Second
		p.TTL = &ttl
	}
	rec, err := a.cfg.Players.Update(r.Context(), r.PathValue("identityId"), p, cond)
	a.writeRecord(w, rec, err, r)
}

func (a *API) adminDelete(w http.ResponseWriter, r *http.Request) {
	if err := auth.RequireOperator(r.Context(), true); err != nil {
		a.writeError(w, r, err)
		return
	}
	cond, err := ifMatch(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.cfg.Players.Delete(r.Context(), r.PathValue("identityId"), cond); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
