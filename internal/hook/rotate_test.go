package hook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/hook"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/webhook/sign"
)

// signedCalls is an HTTP client that reaches no network: it keeps each
// call's headers and body and allows it.
type signedCalls struct {
	mu   sync.Mutex
	last *http.Request
	body []byte
}

func (c *signedCalls) client() *http.Client { return &http.Client{Transport: c} }

func (c *signedCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.last, c.body = r, body
	c.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"allow":true}`)), Request: r}, nil
}

// signIn asks svc's beforeSignIn hooks about a sign-in, which must be
// allowed, and returns the secrets among secrets whose verifier accepts
// the call made, and how many signatures it carried.
func (c *signedCalls) signIn(t *testing.T, l *lone, svc *hook.Service, secrets ...string) (verified []string, signatures int) {
	t.Helper()
	c.mu.Lock()
	c.last = nil
	c.mu.Unlock()
	if err := svc.BeforeSignIn(l.ctx, identity.SignIn{IdentityID: "p-1", Method: "anonymous"}); err != nil {
		t.Fatalf("the sign-in is refused: %v", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		t.Fatal("the hook was not called")
	}
	for _, s := range secrets {
		v, err := sign.NewVerifier(s)
		if err != nil {
			t.Fatal(err)
		}
		switch err := v.Verify(c.last.Header, c.body, l.clk.Now()); {
		case err == nil:
			verified = append(verified, s)
		case !errors.Is(err, sign.ErrNoMatch):
			t.Fatalf("the call cannot be checked: %v", err)
		}
	}
	// Set as the specification spells it, in lower case (sign.Sign).
	return verified, len(strings.Fields(strings.Join(c.last.Header[sign.HeaderSignature], " ")))
}

// want fails the test unless the call verified with exactly want among
// the secrets tried, one signature each.
func want(t *testing.T, when string, got []string, signatures int, want ...string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") || signatures != len(want) {
		t.Fatalf("%s: the call carries %d signatures and verifies with %d of the secrets tried (%v), want %d (%v)",
			when, signatures, len(got), got, len(want), want)
	}
}

func TestARotatedOutSecretSignsBesideTheNewOneUntilTheOverlapEnds(t *testing.T) {
	for _, tt := range []struct {
		name    string
		set     time.Duration
		overlap time.Duration
	}{
		{"by default for 24 h", 0, 24 * time.Hour},
		{"for Config.RotationOverlap", time.Hour, time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := &signedCalls{}
			l := newLone(t, hook.Config{Client: calls.client(), RotationOverlap: tt.set})
			h := l.create(hook.CreateInput{URL: "http://hooks.example.test/signin", Point: hook.BeforeSignIn, FailMode: hook.FailClosed})
			rot, err := l.svc.RotateSecret(l.ctx, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			if rot.ID != h.ID || rot.Secret == h.Secret || !strings.HasPrefix(rot.Secret, sign.SecretPrefix) {
				t.Fatalf("the rotation answers %s with secret %q (the hook is %s)", rot.ID, rot.Secret, h.ID)
			}
			got, n := calls.signIn(t, l, l.svc, h.Secret, rot.Secret)
			want(t, "right after the rotation", got, n, h.Secret, rot.Secret)
			l.clk.Advance(tt.overlap - time.Second)
			got, n = calls.signIn(t, l, l.svc, h.Secret, rot.Secret)
			want(t, "a second before the overlap ends", got, n, h.Secret, rot.Secret)
			l.clk.Advance(time.Second)
			got, n = calls.signIn(t, l, l.svc, h.Secret, rot.Secret)
			want(t, "once the overlap has ended", got, n, rot.Secret)
		})
	}
}

// The overlap is kept in the hook's record: a replica that read the
// registration before the rotation signs with both secrets once it reads
// it again, and so does a service started after it, until the overlap
// ends. A change of the hook's settings keeps it.
func TestAnOverlapHoldsAfterARestartAndOnEveryReplica(t *testing.T) {
	calls := &signedCalls{}
	cfg := hook.Config{Destinations: private, Client: calls.client()}
	l := newLone(t, cfg)
	h := l.create(hook.CreateInput{URL: "http://hooks.example.test/signin", Point: hook.BeforeSignIn, FailMode: hook.FailClosed})
	replica := l.another(cfg)
	got, n := calls.signIn(t, l, replica, h.Secret)
	want(t, "before the rotation", got, n, h.Secret)

	rot, err := l.svc.RotateSecret(l.ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	timeout := 1000
	if _, err := l.svc.Update(l.ctx, h.ID, hook.UpdateInput{TimeoutMs: &timeout}); err != nil {
		t.Fatal(err)
	}
	l.clk.Advance(time.Second) // Reload: the replica reads the registrations again
	got, n = calls.signIn(t, l, replica, h.Secret, rot.Secret)
	want(t, "on another replica", got, n, h.Secret, rot.Secret)
	restarted := l.another(cfg)
	got, n = calls.signIn(t, l, restarted, h.Secret, rot.Secret)
	want(t, "after a restart", got, n, h.Secret, rot.Secret)
	l.clk.Advance(24*time.Hour - time.Second)
	got, n = calls.signIn(t, l, restarted, h.Secret, rot.Secret)
	want(t, "after a restart, once the overlap has ended", got, n, rot.Secret)
}

// A second rotation during an overlap does not cut the first one short:
// each rotated-out secret signs until its own end.
func TestEachRotatedOutSecretSignsUntilItsOwnEnd(t *testing.T) {
	calls := &signedCalls{}
	l := newLone(t, hook.Config{Client: calls.client()})
	h := l.create(hook.CreateInput{URL: "http://hooks.example.test/signin", Point: hook.BeforeSignIn, FailMode: hook.FailClosed})
	first, err := l.svc.RotateSecret(l.ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	l.clk.Advance(12 * time.Hour)
	second, err := l.svc.RotateSecret(l.ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{h.Secret, first.Secret, second.Secret}
	got, n := calls.signIn(t, l, l.svc, all...)
	want(t, "after two rotations", got, n, all...)
	l.clk.Advance(12 * time.Hour)
	got, n = calls.signIn(t, l, l.svc, all...)
	want(t, "once the first overlap has ended", got, n, first.Secret, second.Secret)
	l.clk.Advance(12 * time.Hour)
	got, n = calls.signIn(t, l, l.svc, all...)
	want(t, "once both overlaps have ended", got, n, second.Secret)
}

func TestRotatingASecretNeedsAnAdminAndAHookThatExists(t *testing.T) {
	l := newLone(t, hook.Config{})
	h := l.create(hook.CreateInput{URL: "http://hooks.example.test/signin", Point: hook.BeforeSignIn, FailMode: hook.FailClosed})
	if _, err := l.svc.RotateSecret(l.ctx, "hook-missing"); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("rotating the secret of an unknown hook: %v, want NotFound", err)
	}
	ro := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, Role: auth.RoleReadOnly, AccessKeyID: "AKREAD"})
	if _, err := l.svc.RotateSecret(ro, h.ID); fault.KindOf(err) != fault.Forbidden {
		t.Fatalf("a read-only key rotating a secret: %v, want Forbidden", err)
	}
}

// A hook whose secret does not open under the master key in force (sealed
// under one since replaced) is not called; a rotation gives it a secret
// that opens, which signs alone.
func TestARotationMendsAHookWhoseSecretCannotBeOpened(t *testing.T) {
	box := func(b byte) *secret.Box {
		key := make([]byte, secret.KeySize)
		key[0] = b
		bx, err := secret.NewBox(key)
		if err != nil {
			t.Fatal(err)
		}
		return bx
	}
	calls := &signedCalls{}
	l := newLone(t, hook.Config{Box: box(1)})
	h := l.create(hook.CreateInput{URL: "http://hooks.example.test/signin", Point: hook.BeforeSignIn, FailMode: hook.FailClosed})
	rekeyed := l.another(hook.Config{Destinations: private, Client: calls.client(), Box: box(2)})
	err := rekeyed.BeforeSignIn(l.ctx, identity.SignIn{IdentityID: "p-1", Method: "anonymous"})
	if fault.KindOf(err) != fault.NotReady || len(l.logs.lines(h.ID, "cannot be opened")) != 1 {
		t.Fatalf("a sign-in gets %v, want the hook unusable and its fail mode (503)", err)
	}
	rot, err := rekeyed.RotateSecret(l.ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, n := calls.signIn(t, l, rekeyed, h.Secret, rot.Secret)
	want(t, "after the rotation", got, n, rot.Secret)
}
