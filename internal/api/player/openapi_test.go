package player_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/musterhq/muster/internal/api/player"
)

var update = flag.Bool("update", false, "rewrite openapi.json from openapi.yaml")

// TestOpenAPIJSONIsCurrent checks that the served openapi.json is
// openapi.yaml as JSON (-update rewrites it).
func TestOpenAPIJSONIsCurrent(t *testing.T) {
	want, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *update {
		if err := os.WriteFile("openapi.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(player.OpenAPIJSON(), want) {
		t.Fatal("openapi.json is not openapi.yaml as JSON: run go test ./internal/api/player -run TestOpenAPIJSONIsCurrent -update")
	}
	served, err := openapi3.NewLoader().LoadFromData(player.OpenAPIJSON())
	if err != nil {
		t.Fatal(err)
	}
	if !served.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %s, want 3.1", served.OpenAPI)
	}
}

// TestEveryRouteIsDocumented checks that each route of this package is an
// operation of the document. The document also covers other packages'
// routes (x-muster-package), so the other direction — every documented
// operation is routed — is checked against the whole server in
// internal/server (TestOpenAPIDocumentMatchesTheServersRoutes).
func TestEveryRouteIsDocumented(t *testing.T) {
	e := newAPI(t, nil)
	served := e.do(t, "GET", "/v1/openapi.json", "", "", nil).Want(200)
	if !bytes.Equal(served.Body, player.OpenAPIJSON()) {
		t.Fatal("GET /v1/openapi.json does not serve the document")
	}
	api := player.New(player.Config{RequireOperator: func(h http.Handler) http.Handler { return h }})
	for _, rt := range api.Routes() {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		if method == "OPTIONS" {
			continue // CORS preflight, not an operation
		}
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not in openapi.yaml", rt.Pattern)
			continue
		}
		if body := item.GetOperation(method).RequestBody; body != nil {
			if limit, _ := body.Value.Extensions["x-muster-max-body-bytes"].(float64); limit != player.DefaultMaxBody {
				t.Errorf("%s: the document says a body may have %v bytes, the route takes %d by default", rt.Pattern, body.Value.Extensions["x-muster-max-body-bytes"], player.DefaultMaxBody)
			}
		}
	}
}
