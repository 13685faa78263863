package hook

import "github.com/musterhq/muster/internal/api/httpx"

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
	httpx.Collection[CreateInput, UpdateInput, *Created, *Hook, *Page]{
		Create: s.Create, List: s.List, Get: s.Get, Update: s.Update, Delete: s.Delete,
	}.Register(rt, "/v1/admin/hooks")
}
