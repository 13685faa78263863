package server_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/musterhq/muster/internal/api/player"
	"github.com/musterhq/muster/internal/server"
)

// operatorOnly are /v1 routes for operators and tools that the player API
// document deliberately leaves out; the README documents them.
var operatorOnly = map[string]bool{
	"GET /v1/admin/events":       true,
	"GET /v1/admin/keys":         true,
	"POST /v1/admin/keys":        true,
	"DELETE /v1/admin/keys/{id}": true,
	"POST /v1/admin/fleets/{fleetId}/computes/{computeName}/heartbeat": true,
	"POST /v1/admin/clock/advance":                                     true, // --fake-clock only
}

// TestOpenAPIDocumentMatchesTheServersRoutes holds the served OpenAPI
// document to the whole server: every documented operation is routed, and
// every /v1 route (but the operator-only ones) is documented.
func TestOpenAPIDocumentMatchesTheServersRoutes(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(player.OpenAPIJSON())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), FakeClock: true, SDKListen: "127.0.0.1:0"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	routed := map[string]bool{}
	for _, pattern := range srv.Routes() {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || method == "OPTIONS" || !(strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/.well-known/")) {
			continue // the catch-all, CORS preflights, the control API, health and metrics
		}
		routed[method+" "+path] = true
		if operatorOnly[pattern] {
			continue
		}
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not in the OpenAPI document (internal/api/player/openapi.yaml)", pattern)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !routed[method+" "+path] {
				t.Errorf("the OpenAPI document has %s %s, which the server does not route", method, path)
			}
		}
	}
	if len(routed) < 10 {
		t.Fatalf("only %d /v1 routes seen; is the route recorder wired?", len(routed))
	}
}
