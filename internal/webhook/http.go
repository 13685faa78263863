package webhook

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/fault"
)

// DefaultMaxBody is the body limit of every route (APIConfig.MaxBody).
const DefaultMaxBody = 64 << 10

// APIConfig configures the operator HTTP API of subscriptions.
type APIConfig struct {
	Service *Service
	// Operator wraps every route: it must authenticate the operator and put
	// the auth.Principal in the context (the service authorises).
	Operator func(http.Handler) http.Handler
	Logger   *slog.Logger
	// MaxBody caps request bodies in bytes (default DefaultMaxBody).
	MaxBody int64
}

// API serves /v1/admin/subscriptions.
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
	const one = "/v1/admin/subscriptions/{id}"
	mux.Handle("POST /v1/admin/subscriptions", o(withBody(a, http.StatusCreated, false, a.create)))
	mux.Handle("GET /v1/admin/subscriptions", o(a.without(http.StatusOK, a.list)))
	mux.Handle("GET "+one, o(a.without(http.StatusOK, a.get)))
	mux.Handle("PATCH "+one, o(withBody(a, http.StatusOK, false, a.update)))
	mux.Handle("DELETE "+one, o(a.without(http.StatusNoContent, a.delete)))
	mux.Handle("POST "+one+"/secret/rotate", o(a.without(http.StatusOK, a.rotate)))
	mux.Handle("GET "+one+"/deliveries", o(a.without(http.StatusOK, a.deliveries)))
	mux.Handle("GET "+one+"/dead-letters", o(a.without(http.StatusOK, a.deadLetters)))
	mux.Handle("POST "+one+"/dead-letters/redrive", o(withBody(a, http.StatusOK, true, a.redrive)))
}

func (a *API) create(r *http.Request, in CreateInput) (any, error) {
	return a.svc.Create(r.Context(), in)
}

func (a *API) list(r *http.Request) (any, error) {
	limit, token, err := page(r)
	if err != nil {
		return nil, err
	}
	return a.svc.List(r.Context(), limit, token)
}

func (a *API) get(r *http.Request) (any, error) { return a.svc.Get(r.Context(), r.PathValue("id")) }

func (a *API) update(r *http.Request, in UpdateInput) (any, error) {
	return a.svc.Update(r.Context(), r.PathValue("id"), in)
}

func (a *API) delete(r *http.Request) (any, error) {
	return nil, a.svc.Delete(r.Context(), r.PathValue("id"))
}

func (a *API) rotate(r *http.Request) (any, error) {
	return a.svc.RotateSecret(r.Context(), r.PathValue("id"))
}

func (a *API) deliveries(r *http.Request) (any, error) {
	items, err := a.svc.Deliveries(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string][]Attempt{"attempts": items}, nil
}

func (a *API) deadLetters(r *http.Request) (any, error) {
	limit, token, err := page(r)
	if err != nil {
		return nil, err
	}
	return a.svc.DeadLetters(r.Context(), r.PathValue("id"), limit, token)
}

func (a *API) redrive(r *http.Request, in RedriveInput) (any, error) {
	return a.svc.Redrive(r.Context(), r.PathValue("id"), in)
}

// page reads ?limit= (default 50) and ?nextToken=.
func page(r *http.Request) (limit int, token string, err error) {
	limit = 50
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil {
			return 0, "", fault.BadField("limit", "must be 1 to 100")
		}
	}
	return limit, r.URL.Query().Get("nextToken"), nil
}

// withBody is a route that reads a body of type In (optional: may be
// empty), calls the service and answers status with what it returns.
func withBody[In any](a *API, status int, optional bool, call func(*http.Request, In) (any, error)) http.HandlerFunc {
	return httpx.WithBody(httpx.Body{Limit: a.cfg.MaxBody, Optional: optional}, a.log, status, call)
}

// without is a route without a body.
func (a *API) without(status int, call func(*http.Request) (any, error)) http.HandlerFunc {
	return httpx.Without(a.log, status, call)
}
