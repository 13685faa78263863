package hook

import (
	"net/http"

	"github.com/musterhq/muster/internal/api/httpx"
)

// DefaultMaxBody is the body limit of every route (APIConfig.MaxBody).
const DefaultMaxBody = 64 << 10

// APIConfig configures the operator HTTP API of hooks (MaxBody defaults
// to DefaultMaxBody).
type APIConfig = httpx.OperatorAPIConfig[*Service]

// API serves /v1/admin/hooks.
type API struct{ cfg APIConfig }

// NewAPI returns the API.
func NewAPI(cfg APIConfig) *API { return &API{cfg: cfg} }

// Register mounts every route on mux.
func (a *API) Register(mux httpx.Mux) {
	rt := a.cfg.Routes(mux, DefaultMaxBody)
	s := a.cfg.Service
	const base = "/v1/admin/hooks"
	httpx.Collection[CreateInput, UpdateInput, *Created, *Hook, *Page]{
		Create: s.Create, List: s.List, Get: s.Get, Update: s.Update, Delete: s.Delete,
	}.Register(rt, base)
	// Shaped as the webhook subscriptions' rotation, so operators and
	// scripts rotate both kinds of secret alike.
	rt.Without("POST "+base+"/{id}/secret/rotate", http.StatusOK, func(r *http.Request) (any, error) {
		return s.RotateSecret(r.Context(), r.PathValue("id"))
	})
}
