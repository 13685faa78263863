package playermm_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/api/player"
	"github.com/musterhq/muster/internal/api/playermm"
)

// TestEveryRouteIsInThePlayerOpenAPIDocument checks that each route this
// package registers is an operation of the player API's document, marked
// as this package's, with this package's body limit.
func TestEveryRouteIsInThePlayerOpenAPIDocument(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(player.OpenAPIJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	mux := &recordingMux{}
	pass := func(h http.Handler) http.Handler { return h }
	playermm.New(playermm.Config{Protect: pass, Operator: pass}).Register(mux)
	if len(mux.patterns) < 11 {
		t.Fatalf("only %d routes registered", len(mux.patterns))
	}
	for _, p := range mux.patterns {
		method, path, _ := strings.Cut(p, " ")
		item, ok := doc.Paths[path]
		if !ok {
			t.Errorf("%s is not in openapi.yaml", p)
			continue
		}
		if _, ok := item[strings.ToLower(method)]; !ok {
			t.Errorf("%s is not in openapi.yaml", p)
		}
		if string(item["x-muster-package"]) != `"internal/api/playermm"` {
			t.Errorf("%s: x-muster-package is %s", path, item["x-muster-package"])
		}
		var op struct {
			RequestBody *struct {
				Limit int `json:"x-muster-max-body-bytes"`
			} `json:"requestBody"`
		}
		json.Unmarshal(item[strings.ToLower(method)], &op)
		if op.RequestBody != nil && op.RequestBody.Limit != playermm.DefaultMaxBody {
			t.Errorf("%s: the document says a body may have %d bytes, the route takes %d", p, op.RequestBody.Limit, playermm.DefaultMaxBody)
		}
	}
}

type recordingMux struct{ patterns []string }

func (m *recordingMux) Handle(pattern string, _ http.Handler) {
	m.patterns = append(m.patterns, pattern)
}
