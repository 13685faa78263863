package httpx

import (
	"log/slog"
	"net/http"
)

// OperatorAPIConfig configures an operator HTTP API over one service S (the
// hooks and webhook subscriptions under /v1/admin).
type OperatorAPIConfig[S any] struct {
	Service S
	// Operator wraps every route: it must authenticate the operator and put
	// the auth.Principal in the context (the service authorises).
	Operator func(http.Handler) http.Handler
	Logger   *slog.Logger
	// MaxBody caps request bodies in bytes (0: the API's default).
	MaxBody int64
}

// Routes returns the API's routes on mux, reading bodies of at most MaxBody
// bytes, or defaultMaxBody when MaxBody is unset.
func (c OperatorAPIConfig[S]) Routes(mux Mux, defaultMaxBody int64) Routes {
	return NewRoutes(mux, c.Operator, c.Logger, c.MaxBody, defaultMaxBody)
}
