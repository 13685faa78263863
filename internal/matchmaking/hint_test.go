package matchmaking

import (
	"fmt"
	"strings"
	"testing"
)

// A refusal names at most hintedLocations known locations: an installation
// that knows thousands (a load test's leftovers) would otherwise answer a
// typo with a list of hundreds of kilobytes, once per bad field.
func TestAHintListsAFewLocations(t *testing.T) {
	few := map[string]bool{"custom-a": true, "custom-b": true}
	if got := hint(few); got != "known: custom-a, custom-b" {
		t.Fatalf("hint of two: %q", got)
	}
	many := map[string]bool{}
	for i := range 5000 {
		many[fmt.Sprintf("custom-%04d", i)] = true
	}
	got := hint(many)
	if !strings.HasPrefix(got, "known: custom-0000, custom-0001") || !strings.HasSuffix(got, "and 4980 more (GET /v1/locations)") || len(got) > 500 {
		t.Fatalf("hint of 5,000 (%d bytes): %.200q…", len(got), got)
	}
}
