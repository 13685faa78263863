package flexmatch_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/musterhq/muster/flexmatch"
)

// pathological builds a body of n attributes and n broken rules, each
// needing a suggestion search, so quadratic work would show.
func pathological(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"ruleLanguageVersion":"1.0","playerAttributes":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name":"attr%04d","type":"number"}`, i)
	}
	b.WriteString(`],"teams":[{"name":"t","minPlayers":1,"maxPlayers":2}],"rules":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name":"r%04d","type":"distance","measurements":"avg(teams[*].players.attributes[atr%04d])","referenceValue":1,"maxDistance":1}`, i, i)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// allocated is how many bytes one Parse of body allocates: a measure of its
// work that, unlike a timing, does not depend on how busy the machine is.
func allocated(body []byte) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	flexmatch.Parse(body)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestParseWorkGrowsLinearly: a rule set with many problems costs work in
// proportion to its size. Linear work allocates about the size ratio (8×)
// more; work quadratic in the number of rules or problems would be ~64×.
func TestParseWorkGrowsLinearly(t *testing.T) {
	small, large := pathological(45), pathological(360)
	if len(large) > flexmatch.MaxBodyLen {
		t.Fatalf("large body is %d bytes, over the limit", len(large))
	}
	as, al := allocated(small), allocated(large)
	ratio := float64(al) / float64(max(as, 1))
	sizeRatio := float64(len(large)) / float64(len(small))
	if ratio > 2*sizeRatio {
		t.Fatalf("parse allocations grew %.1f× for %.1f× the input (%d → %d bytes)", ratio, sizeRatio, as, al)
	}
	_, err := flexmatch.Parse(large)
	if ve, ok := err.(*flexmatch.ValidationError); !ok || len(ve.Problems) != 360 {
		t.Fatalf("want 360 problems, got %v", err)
	}
}
