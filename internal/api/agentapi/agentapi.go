package agentapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/api/httpx"
)

// Route is the pattern Handler serves.
const Route = "POST /v1/admin/fleets/{fleetId}/computes/{computeName}/heartbeat"

// Heartbeats is what the handler needs of the fleet service.
type Heartbeats interface {
	Heartbeat(ctx context.Context, fleetID, computeName string, hb agentwire.Heartbeat) (agentwire.Reply, error)
}

// Handler serves Route.
func Handler(fleets Heartbeats, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var hb agentwire.Heartbeat
		if err := (httpx.Body{}).Decode(w, r, &hb); err != nil {
			httpx.WriteError(w, r, log, err)
			return
		}
		reply, err := fleets.Heartbeat(r.Context(), r.PathValue("fleetId"), r.PathValue("computeName"), hb)
		if err != nil {
			httpx.WriteError(w, r, log, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, reply)
	})
}
