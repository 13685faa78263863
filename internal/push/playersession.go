package push

import (
	"encoding/json"

	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

// playerSessionEvent holds the player session events' types: each goes to
// the player whose session it is, and to no one else.
var playerSessionEvent = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range session.PlayerSessionEventTypes() {
		m[t] = true
	}
	return m
}()

// decodePlayerSession fills v from a player session event.
func decodePlayerSession(ev store.Event, v *view) bool {
	var d session.PlayerSessionEvent
	if json.Unmarshal(ev.Doc, &d) != nil || d.PlayerID == "" {
		return false
	}
	v.ps = &d
	v.players = []string{d.PlayerID}
	return true
}
