package hook

import (
	"context"
	"errors"
	"testing"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/matchmaking"
)

// FuzzTicketAnswer feeds beforeTicket answers to the strict decoding and
// checks a hook's answer goes through: whatever passes names only the
// ticket's players, declared attributes of their declared types, and a
// configuration open to players; nothing panics. Seeds are in
// testdata/fuzz/FuzzTicketAnswer.
func FuzzTicketAnswer(f *testing.F) {
	f.Add([]byte(`{"allow":true,"attributes":{"p-1":{"rank":{"N":3}}}}`))
	f.Add([]byte(`{"allow":false,"reason":"banned"}`))
	f.Add([]byte(`{"allow":true,"configurationName":"open"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := &matchmaking.TicketDraft{PlayerID: "p-1", ConfigurationName: "duel", Types: map[string]string{"rank": "number", "roles": "string_list"},
			Players: []matchmaking.DraftPlayer{{PlayerID: "p-1"}, {PlayerID: "p-2"}},
			Open: func(_ context.Context, name string) (map[string]string, error) {
				if name == "open" {
					return map[string]string{"tier": "string"}, nil
				}
				return nil, errors.New("closed")
			}}
		var ans TicketAnswer
		if httpx.Decode(data, &ans) != nil {
			return
		}
		types, err := checkTicketAnswer(context.Background(), d, &ans)
		if err != nil || !ans.Allow {
			return
		}
		applyTicketAnswer(d, &ans, types)
		if d.ConfigurationName != "duel" && d.ConfigurationName != "open" {
			t.Fatalf("moved to %q", d.ConfigurationName)
		}
		for pid, attrs := range ans.Attributes {
			if pid != "p-1" && pid != "p-2" {
				t.Fatalf("attributes of %q passed", pid)
			}
			for name, v := range attrs {
				if !fits(v, types[name]) {
					t.Fatalf("%s of %s does not fit %q", name, pid, types[name])
				}
			}
		}
	})
}
