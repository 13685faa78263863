package webhook

import (
	"net/http"

	"github.com/musterhq/muster/internal/api/httpx"
)

// DefaultMaxBody is the body limit of every route (APIConfig.MaxBody).
const DefaultMaxBody = 64 << 10

// APIConfig configures the operator HTTP API of subscriptions (MaxBody defaults
// to DefaultMaxBody).
type APIConfig = httpx.OperatorAPIConfig[*Service]

// API serves /v1/admin/subscriptions.
type API struct{ cfg APIConfig }

// NewAPI returns the API.
func NewAPI(cfg APIConfig) *API { return &API{cfg: cfg} }

// Register mounts every route on mux.
func (a *API) Register(mux httpx.Mux) {
	rt := a.cfg.Routes(mux, DefaultMaxBody)
	s := a.cfg.Service
	const base = "/v1/admin/subscriptions"
	httpx.Collection[CreateInput, UpdateInput, *Created, *Subscription, *Page[Subscription]]{
		Create: s.Create, List: s.List, Get: s.Get, Update: s.Update, Delete: s.Delete,
	}.Register(rt, base)
	rt.Without("POST "+base+"/{id}/secret/rotate", http.StatusOK, func(r *http.Request) (any, error) {
		return s.RotateSecret(r.Context(), r.PathValue("id"))
	})
	rt.Without("GET "+base+"/{id}/deliveries", http.StatusOK, func(r *http.Request) (any, error) {
		items, err := s.Deliveries(r.Context(), r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return map[string][]Attempt{"attempts": items}, nil
	})
	rt.Without("GET "+base+"/{id}/dead-letters", http.StatusOK, func(r *http.Request) (any, error) {
		limit, token, err := httpx.PageQuery(r)
		if err != nil {
			return nil, err
		}
		return s.DeadLetters(r.Context(), r.PathValue("id"), limit, token)
	})
	httpx.Handle(rt, "POST "+base+"/{id}/dead-letters/redrive", http.StatusOK, true, func(r *http.Request, in RedriveInput) (any, error) {
		return s.Redrive(r.Context(), r.PathValue("id"), in)
	})
}
