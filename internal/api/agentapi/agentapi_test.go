package agentapi_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/api/agentapi"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/server/servertest"
)

// TestTheHeartbeatRouteRendersTheServiceAnswer posts heartbeats to the
// route on a real fleet service: the route decodes strictly and renders the
// service's answers and faults, its bad fields as JSON paths of the body.
func TestTheHeartbeatRouteRendersTheServiceAnswer(t *testing.T) {
	e := fleettest.New(t, "custom-a")
	operator := auth.From(e.Ctx)
	mux := http.NewServeMux()
	h := agentapi.Handler(e.Fleets, slog.New(slog.DiscardHandler))
	// The route is mounted behind operator authentication; stand in for it.
	mux.Handle(agentapi.Route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.With(r.Context(), operator)))
	}))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	fleetID := e.FleetID
	post := func(t *testing.T, compute, body string) (int, string) {
		t.Helper()
		r := servertest.Send(t, nil, hs.URL+"/v1/admin/fleets/"+fleetID+"/computes/"+compute+"/heartbeat", "POST", "", body, nil)
		return r.Status, string(r.Body)
	}
	for _, tt := range []struct {
		name, compute, body string
		status              int
		mentions            []string
	}{
		{"a heartbeat is answered with the compute's view", fleettest.Compute, `{"draining":false,"processes":[{"processId":"p-1","pid":12}]}`,
			200, []string{`"computeStatus":"ACTIVE"`, `"processId":"p-1"`, `"status":"PENDING"`}},
		{"every bad field is named by its JSON path", fleettest.Compute, `{"processes":[{"pid":12}],"beacon":{"domain":"127.0.0.1","port":70000}}`,
			400, []string{`$.processes[0].processId`, `$.beacon.port`}},
		{"an unknown member is refused", fleettest.Compute, `{"processes":[],"drainng":true}`, 400, []string{`drainng`}},
		{"an unregistered compute is not found", "nope", `{"processes":[]}`, 404, []string{"nope"}},
		{"a body over the limit is too large", fleettest.Compute, `{"processes":[` + strings.Repeat(`{"processId":"x"},`, 70000) + `{"processId":"x"}]}`, 413, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, tt.compute, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(body, m) {
					t.Errorf("answer %s does not mention %s", body, m)
				}
			}
		})
	}
}
