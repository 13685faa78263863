package hook_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/hook"
	"github.com/musterhq/muster/internal/identity"
)

// A hook registered while private destinations were allowed (http://) is
// not called once the server runs without them: the policy in force
// decides at every read of the registrations, not only at registration.
// Its fail mode says what the request gets, as for a hook that cannot be
// reached, and the operator is told once which hook and why.
func TestAHookThePolicyInForceRefusesIsNotCalled(t *testing.T) {
	for _, tt := range []struct {
		mode string
		want fault.Kind // of the sign-in's error; Internal stands for nil
	}{
		{hook.FailClosed, fault.NotReady},
		{hook.FailOpen, fault.Internal},
	} {
		t.Run("a "+tt.mode+" hook is not called and its fail mode applies", func(t *testing.T) {
			l := newLone(t, hook.Config{})
			h := l.create(hook.CreateInput{URL: "http://hooks.example.test/signin", Point: hook.BeforeSignIn, FailMode: tt.mode})
			studio := &answering{answer: func(*http.Request) string { return `{"allow":false,"reason":"the hook was called"}` }}
			restarted := l.another(hook.Config{Destinations: strict, Client: studio.client()})
			for range 2 {
				err := restarted.BeforeSignIn(l.ctx, identity.SignIn{IdentityID: "p-1", Method: "anonymous"})
				switch {
				case tt.want == fault.Internal && err != nil:
					t.Fatalf("the sign-in is refused: %v", err)
				case tt.want != fault.Internal && fault.KindOf(err) != tt.want:
					t.Fatalf("the sign-in gets %v (%v), want %v", fault.KindOf(err), err, tt.want)
				}
				l.clk.Advance(time.Second) // the registrations are read again
			}
			if n := studio.count(); n != 0 {
				t.Fatalf("the hook was called %d times", n)
			}
			if got := l.logs.lines(h.ID, "https://"); len(got) != 1 {
				t.Fatalf("want one line naming the hook and the reason, got %q", got)
			}
			// The operator can still disable the hook, but not give it
			// another URL the policy refuses.
			off, url := false, "http://hooks.example.test/other"
			if _, err := restarted.Update(l.ctx, h.ID, hook.UpdateInput{Enabled: &off}); err != nil {
				t.Fatalf("disabling the hook: %v", err)
			}
			if _, err := restarted.Update(l.ctx, h.ID, hook.UpdateInput{URL: &url}); fault.KindOf(err) != fault.Invalid {
				t.Fatalf("another http:// URL: %v, want it refused", err)
			}
		})
	}
}
