package ids_test

import (
	"regexp"
	"testing"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/ids"
)

func TestUUIDIsVersion7(t *testing.T) {
	u, err := uuid.Parse(ids.UUID())
	if err != nil {
		t.Fatal(err)
	}
	if u.Version() != 7 {
		t.Fatalf("version %d, want 7", u.Version())
	}
}

// Ids made later sort after ids made earlier once a millisecond has
// passed between them: that is what keeps new records together in the
// store. The loop runs until the clock moves on.
func TestIdsGrowWithTime(t *testing.T) {
	for _, newID := range []func() string{ids.UUID, ids.Hex} {
		first := newID()
		later := newID()
		for later[:12] == first[:12] {
			later = newID()
		}
		if later <= first {
			t.Fatalf("%q made after %q sorts before it", later, first)
		}
	}
}

func TestHexIsThirtyTwoDigitsWithRandomTail(t *testing.T) {
	hexRE := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for range 1000 {
		h := ids.Hex()
		if !hexRE.MatchString(h) {
			t.Fatalf("%q is not 32 hex digits", h)
		}
		if seen[h[12:]] {
			t.Fatalf("random part %q repeated", h[12:])
		}
		seen[h[12:]] = true
	}
}
