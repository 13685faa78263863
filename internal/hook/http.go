package hook

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/fault"
)

// DefaultMaxBody is the body limit of every route (APIConfig.MaxBody).
const DefaultMaxBody = 64 << 10

// APIConfig configures the operator HTTP API of hooks.
type APIConfig struct {
	Service *Service
	// Operator wraps every route: it must authenticate the operator and put
	// the auth.Principal in the context (the service authorises).
	Operator func(http.Handler) http.Handler
	Logger   *slog.Logger
	// MaxBody caps request bodies in bytes (default DefaultMaxBody).
	MaxBody int64
}

// API serves /v1/admin/hooks.
type API struct {
	cfg APIConfig
	svc *Service
	log *slog.Logger
}

// NewAPI returns the API.
func NewAPI(cfg APIConfig) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	return &API{cfg: cfg, svc: cfg.Service, log: cfg.Logger}
}

// Mux is where routes are registered (*http.ServeMux).
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Register mounts every route on mux.
func (a *API) Register(mux Mux) {
	o := func(f http.HandlerFunc) http.Handler { return a.cfg.Operator(f) }
	body := httpx.Body{Limit: a.cfg.MaxBody}
	const one = "/v1/admin/hooks/{id}"
	mux.Handle("POST /v1/admin/hooks", o(httpx.WithBody(body, a.log, http.StatusCreated, a.create)))
	mux.Handle("GET /v1/admin/hooks", o(httpx.Without(a.log, http.StatusOK, a.list)))
	mux.Handle("GET "+one, o(httpx.Without(a.log, http.StatusOK, a.get)))
	mux.Handle("PATCH "+one, o(httpx.WithBody(body, a.log, http.StatusOK, a.update)))
	mux.Handle("DELETE "+one, o(httpx.Without(a.log, http.StatusNoContent, a.delete)))
}

func (a *API) create(r *http.Request, in CreateInput) (any, error) {
	return a.svc.Create(r.Context(), in)
}

func (a *API) list(r *http.Request) (any, error) {
	limit := 50
	if s := r.URL.Query().Get("limit"); s != "" {
		var err error
		if limit, err = strconv.Atoi(s); err != nil {
			return nil, fault.BadField("limit", "must be 1 to 100")
		}
	}
	return a.svc.List(r.Context(), limit, r.URL.Query().Get("nextToken"))
}

func (a *API) get(r *http.Request) (any, error) { return a.svc.Get(r.Context(), r.PathValue("id")) }

func (a *API) update(r *http.Request, in UpdateInput) (any, error) {
	return a.svc.Update(r.Context(), r.PathValue("id"), in)
}

func (a *API) delete(r *http.Request) (any, error) {
	return nil, a.svc.Delete(r.Context(), r.PathValue("id"))
}
