package push

import "bytes"

// maxScanKeys is how many subscribed players and watched tickets the Hub
// looks for in an event's document before decoding it; with more, it
// decodes every player event.
const maxScanKeys = 64

// wantedLocked says whether an event's document may concern a subscribed
// player or a watched ticket, without decoding it: never when nobody is
// subscribed or watching, and when few are, only if one of their ids
// appears in the document. An id JSON would escape is not looked for: the
// event is then decoded. Called with h.mu held.
func (h *Hub) wantedLocked(doc []byte) bool {
	if len(h.subs) == 0 && len(h.waits) == 0 {
		return false
	}
	if len(h.subs)+len(h.waits) > maxScanKeys {
		return true
	}
	for p := range h.subs {
		if !jsonVerbatim(p) || bytes.Contains(doc, []byte(p)) {
			return true
		}
	}
	for t := range h.waits {
		if !jsonVerbatim(t) || bytes.Contains(doc, []byte(t)) {
			return true
		}
	}
	return false
}

// jsonVerbatim says whether encoding/json writes s into a string as is:
// printable ASCII without quotes, backslashes or the HTML characters it
// escapes.
func jsonVerbatim(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return s != ""
}
