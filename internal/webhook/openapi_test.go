package webhook_test

import (
	_ "embed"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/musterhq/muster/internal/webhook"
)

//go:embed openapi-fragment.yaml
var fragment []byte

// recordingMux records the patterns Register mounts.
type recordingMux struct{ patterns []string }

func (m *recordingMux) Handle(pattern string, _ http.Handler) {
	m.patterns = append(m.patterns, pattern)
}

func TestOpenAPIFragment(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(fragment)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("the fragment is not a valid document: %v", err)
	}
	var enum []string
	for _, v := range doc.Components.Schemas["EventType"].Value.Enum {
		enum = append(enum, fmt.Sprint(v))
	}
	if !slices.Equal(enum, webhook.EventTypes) {
		t.Errorf("the fragment's EventType lists %v, the filter accepts %v", enum, webhook.EventTypes)
	}
	mux := &recordingMux{}
	webhook.NewAPI(webhook.APIConfig{Operator: func(h http.Handler) http.Handler { return h }}).Register(mux)
	routed := map[string]bool{}
	for _, p := range mux.patterns {
		method, path, _ := strings.Cut(p, " ")
		routed[p] = true
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not in openapi-fragment.yaml", p)
			continue
		}
		if body := item.GetOperation(method).RequestBody; body != nil {
			if limit, _ := body.Value.Extensions["x-muster-max-body-bytes"].(float64); limit != webhook.DefaultMaxBody {
				t.Errorf("%s: the fragment says a body may have %v bytes, the route takes %d", p, limit, webhook.DefaultMaxBody)
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !routed[method+" "+path] {
				t.Errorf("the fragment has %s %s, which Register does not route", method, path)
			}
		}
	}
}
