package hook

import (
	"log/slog"
	"net/http"

	"github.com/musterhq/muster/internal/api/httpx"
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
type API struct{ cfg APIConfig }

// NewAPI returns the API.
func NewAPI(cfg APIConfig) *API { return &API{cfg: cfg} }

// Register mounts every route on mux.
func (a *API) Register(mux httpx.Mux) {
	rt := httpx.NewRoutes(mux, a.cfg.Operator, a.cfg.Logger, a.cfg.MaxBody, DefaultMaxBody)
	s := a.cfg.Service
	httpx.Collection[CreateInput, UpdateInput, *Created, *Hook, *Page]{
		Create: s.Create, List: s.List, Get: s.Get, Update: s.Update, Delete: s.Delete,
	}.Register(rt, "/v1/admin/hooks")
}
