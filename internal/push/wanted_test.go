package push

import (
	"fmt"
	"testing"
)

// TestWantedLooksForSubscribersBeforeDecoding: an event's document is
// decoded only when it may concern a subscribed player or a watched ticket
// — never with nobody listening, with few listening only when one of their
// ids appears in it — and always when an id could be escaped in JSON or
// too many listen to look for each.
func TestWantedLooksForSubscribersBeforeDecoding(t *testing.T) {
	doc := []byte(`{"detail":{"tickets":[{"ticketId":"t-1","players":[{"playerId":"p-1"}]}]}}`)
	h := &Hub{subs: map[string]map[*client]struct{}{}, waits: map[string]map[*watch]struct{}{}}
	if h.wantedLocked(doc) {
		t.Fatal("wanted with nobody subscribed or watching")
	}
	addTo(h.subs, "p-2", &client{})
	if h.wantedLocked(doc) {
		t.Fatal("wanted by a player it does not name")
	}
	addTo(h.waits, "t-1", &watch{})
	if !h.wantedLocked(doc) {
		t.Fatal("not wanted by a long poll on its ticket")
	}
	h.waits = map[string]map[*watch]struct{}{}
	addTo(h.subs, "p-1", &client{})
	if !h.wantedLocked(doc) {
		t.Fatal("not wanted by a player it names")
	}
	h.subs = map[string]map[*client]struct{}{}
	addTo(h.subs, `odd"id`, &client{})
	if !h.wantedLocked(doc) {
		t.Fatal("not decoded for an id JSON escapes")
	}
	h.subs = map[string]map[*client]struct{}{}
	for i := range maxScanKeys + 1 {
		addTo(h.subs, fmt.Sprint("other-", i), &client{})
	}
	if !h.wantedLocked(doc) {
		t.Fatal("not decoded with more listeners than are looked for")
	}
}
