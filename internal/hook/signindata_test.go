package hook_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/hook"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/store"
)

// Each beforeSignIn hook may attach up to 4 KiB, and several hooks merge:
// the merged signInData is bounded too (hook.MaxSignInDataTotal). The hook
// whose data would take it past the bound answered badly: its data is not
// kept, the log names it, and its fail mode decides (failOpen keeps what
// the hooks before it attached; failClosed refuses with 503).
func TestTheMergedSignInDataIsBounded(t *testing.T) {
	const member = 3900 // under the bound of one hook's data
	hooks := hook.MaxSignInDataTotal/member + 1
	for _, mode := range []string{hook.FailOpen, hook.FailClosed} {
		t.Run("with a "+mode+" hook past the bound", func(t *testing.T) {
			studio := &answering{answer: func(r *http.Request) string {
				k := strings.TrimPrefix(r.URL.Path, "/")
				return `{"allow":true,"data":{"` + k + `":"` + strings.Repeat("x", member) + `"}}`
			}}
			l := newLone(t, hook.Config{Client: studio.client()})
			var last string
			for i := range hooks {
				h := l.create(hook.CreateInput{URL: fmt.Sprintf("http://hooks.example.test/k%d", i), Point: hook.BeforeSignIn,
					FailMode: mode, Order: &i})
				last = h.ID
			}
			err := l.svc.BeforeSignIn(l.ctx, identity.SignIn{IdentityID: "p-1", Method: "anonymous"})
			if mode == hook.FailClosed {
				if fault.KindOf(err) != fault.NotReady {
					t.Fatalf("the sign-in gets %v, want NotReady (503)", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := l.logs.lines(last, "signInData"); len(got) != 1 {
				t.Fatalf("want a line naming the hook past the bound, got %q", got)
			}
			if mode == hook.FailClosed {
				return
			}
			kept := l.signInData("p-1")
			if len(kept) > hook.MaxSignInDataTotal || len(kept) < hook.MaxSignInDataTotal-member {
				t.Fatalf("%d bytes of signInData were kept, want what fits in %d", len(kept), hook.MaxSignInDataTotal)
			}
			var data map[string]string
			json.Unmarshal(kept, &data)
			if _, ok := data[fmt.Sprintf("k%d", hooks-1)]; ok || len(data) != hooks-1 {
				t.Fatalf("kept members %d, want the %d the hooks before the last attached", len(data), hooks-1)
			}
		})
	}
}

// signInData reads what a player's sign-in kept.
func (l *lone) signInData(id string) json.RawMessage {
	l.t.Helper()
	var rec struct {
		Data json.RawMessage `json:"data"`
	}
	err := l.db.View(l.ctx, func(r store.Reader) error {
		var err error
		rec, _, err = store.GetJSON[struct {
			Data json.RawMessage `json:"data"`
		}](l.ctx, r, hook.KindSignInData, id)
		return err
	})
	if err != nil {
		l.t.Fatal(err)
	}
	return rec.Data
}
