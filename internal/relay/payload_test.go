package relay

import (
	"strings"
	"testing"
)

// FuzzPayload: whatever ids a key carries (as Send takes them: no spaces
// or newlines inside an id or the key), the messages that carry them fit
// the payload limit and read back as the same ids, in order.
func FuzzPayload(f *testing.F) {
	f.Add("t/duel", "a b c", 1)
	f.Add("c/duel", "", 0)
	f.Add("wake", strings.Repeat("0123456789abcdef0123456789abcdef0123 ", 400), 3)
	f.Fuzz(func(t *testing.T, key, joined string, repeat int) {
		if strings.ContainsAny(key, " \n") || len(key) > 200 || strings.Contains(joined, "\n") || repeat < 0 || repeat > 5 {
			return
		}
		var ids []string
		for range repeat {
			for _, id := range strings.Fields(joined) {
				if len(id) <= 1024 {
					ids = append(ids, id)
				}
			}
		}
		var got []string
		for _, p := range payloads(key, ids) {
			if len(p) > maxPayload && len(ids) > 1 {
				t.Fatalf("a message of %d bytes exceeds the limit", len(p))
			}
			k, part := parse(p)
			if k != key {
				t.Fatalf("key %q read back as %q", key, k)
			}
			got = append(got, part...)
		}
		if strings.Join(got, " ") != strings.Join(ids, " ") {
			t.Fatalf("ids %v read back as %v", ids, got)
		}
	})
}
