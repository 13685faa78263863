package flexmatch_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

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

func bestOf3(body []byte) time.Duration {
	best := time.Duration(1 << 62)
	for range 3 {
		t0 := time.Now()
		_, _ = flexmatch.Parse(body)
		best = min(best, time.Since(t0))
	}
	return best
}

func TestParseTimeGrowsLinearly(t *testing.T) {
	small, large := pathological(45), pathological(360)
	if len(large) > flexmatch.MaxBodyLen {
		t.Fatalf("large body is %d bytes, over the limit", len(large))
	}
	ts, tl := bestOf3(small), bestOf3(large)
	ratio := float64(tl) / float64(max(ts, time.Microsecond))
	sizeRatio := float64(len(large)) / float64(len(small))
	// Linear work gives a ratio near the size ratio (8); quadratic work
	// would give about 64. Allow generous noise for shared machines.
	if ratio > 4*sizeRatio {
		t.Fatalf("parse time grew %.1f× for %.1f× the input (%v → %v)", ratio, sizeRatio, ts, tl)
	}
	_, err := flexmatch.Parse(large)
	if ve, ok := err.(*flexmatch.ValidationError); !ok || len(ve.Problems) != 360 {
		t.Fatalf("want 360 problems, got %v", err)
	}
}
