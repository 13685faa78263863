package identity_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/store"
)

func TestRefreshTokensRotate(t *testing.T) {
	e := newEnv(t, nil)
	first, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	second, err := e.svc.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.IdentityID != first.IdentityID || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken || second.Created {
		t.Fatalf("refresh gave %+v", second)
	}
	c, err := e.svc.Verify(ctx, second.AccessToken)
	if err != nil || !c.ExpiresAt.Equal(t0.Add(time.Minute+time.Hour)) {
		t.Fatalf("refreshed access token: %+v, %v", c, err)
	}
	third, err := e.svc.Refresh(ctx, second.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Verify(ctx, third.AccessToken); err != nil {
		t.Fatal(err)
	}
}

func TestReusingASpentRefreshTokenRevokesTheWholeChain(t *testing.T) {
	e := newEnv(t, nil)
	first, _ := e.svc.Anonymous(ctx, "", "")
	second, err := e.svc.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// Someone replays the first (spent) refresh token, past the grace a
	// lost answer's retry has.
	e.clk.Advance(2 * time.Minute)
	_, err = e.svc.Refresh(ctx, first.RefreshToken)
	wantUnauthenticated(t, err)
	if !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("reuse error %q does not say the session is revoked", err)
	}
	// The legitimate holder's newer tokens are dead too.
	_, err = e.svc.Refresh(ctx, second.RefreshToken)
	wantUnauthenticated(t, err)
	_, err = e.svc.Verify(ctx, second.AccessToken)
	wantUnauthenticated(t, err)
	_, err = e.svc.Verify(ctx, first.AccessToken)
	wantUnauthenticated(t, err)
	// Another session of the same identity is untouched.
	other, _ := e.svc.Anonymous(ctx, "", "")
	if _, err := e.svc.Verify(ctx, other.AccessToken); err != nil {
		t.Fatal(err)
	}
	// The reuse is in the outbox for operators.
	var evs []store.Event
	e.db.View(ctx, func(r store.Reader) error {
		evs, err = r.Events(ctx, store.EventQuery{Type: "RefreshTokenReused"})
		return err
	})
	if len(evs) != 1 || evs[0].Resource != first.IdentityID {
		t.Fatalf("events %+v", evs)
	}
}

// Concurrent exchanges of one token succeed at most twice (the exchange
// and its one retry), and only one of the chains they start goes on: the
// other's next exchange is reuse.
func TestConcurrentExchangesOfOneRefreshTokenLeaveAtMostOneChain(t *testing.T) {
	e := newEnv(t, nil)
	first, _ := e.svc.Anonymous(ctx, "", "")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []string
	for range 8 {
		wg.Go(func() {
			if tok, err := e.svc.Refresh(ctx, first.RefreshToken); err == nil {
				mu.Lock()
				won = append(won, tok.RefreshToken)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(won) > 2 {
		t.Fatalf("%d concurrent exchanges of one refresh token succeeded, want at most 2", len(won))
	}
	going := 0
	for _, rt := range won {
		if _, err := e.svc.Refresh(ctx, rt); err == nil {
			going++
		}
	}
	if going > 1 {
		t.Fatalf("%d chains go on from concurrent exchanges of one token, want at most 1", going)
	}
}

// A client whose exchange's answer was lost holds only the spent token: it
// may exchange it once more within a minute, and the session goes on. The
// token the lost answer carried is spent by that retry, and a second
// retry, or one after the grace, is reuse.
func TestALostRefreshAnswerMayBeRetriedOnce(t *testing.T) {
	e := newEnv(t, nil)
	first, _ := e.svc.Anonymous(ctx, "", "")
	lost, err := e.svc.Refresh(ctx, first.RefreshToken) // its answer never arrives
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(30 * time.Second)
	retried, err := e.svc.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatalf("a retry 30 s after the lost answer: %v", err)
	}
	next, err := e.svc.Refresh(ctx, retried.RefreshToken)
	if err != nil {
		t.Fatalf("the retry's token: %v", err)
	}
	t.Run("a second retry is reuse", func(t *testing.T) {
		e := newEnv(t, nil)
		tok, _ := e.svc.Anonymous(ctx, "", "")
		e.svc.Refresh(ctx, tok.RefreshToken)
		if _, err := e.svc.Refresh(ctx, tok.RefreshToken); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Refresh(ctx, tok.RefreshToken)
		wantUnauthenticated(t, err)
	})
	t.Run("the lost answer's token is spent: presented later it revokes", func(t *testing.T) {
		_, err := e.svc.Refresh(ctx, lost.RefreshToken)
		wantUnauthenticated(t, err)
		_, err = e.svc.Refresh(ctx, next.RefreshToken)
		wantUnauthenticated(t, err)
	})
}

func TestLogoutRevokesRefreshAndAccessTokens(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.svc.Anonymous(ctx, "", "")
	if _, err := e.svc.Verify(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	// A second replica on the same store learns of the logout on reload.
	replica := e.service(t, nil)
	if _, err := replica.Verify(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Logout(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Verify(ctx, tok.AccessToken)
	wantUnauthenticated(t, err)
	_, err = e.svc.Refresh(ctx, tok.RefreshToken)
	wantUnauthenticated(t, err)
	if err := replica.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = replica.Verify(ctx, tok.AccessToken)
	wantUnauthenticated(t, err)
	// Logging out twice, or with a made-up token, is refused.
	wantUnauthenticated(t, e.svc.Logout(ctx, tok.RefreshToken))
	wantUnauthenticated(t, e.svc.Logout(ctx, "made-up"))
}

func TestARefreshTokenExpiresWithItsSession(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.svc.Anonymous(ctx, "", "")
	e.clk.Advance(30*24*time.Hour + time.Second)
	_, err := e.svc.Refresh(ctx, tok.RefreshToken)
	wantUnauthenticated(t, err)
}

func TestOnlyHashesOfSecretsAreStored(t *testing.T) {
	e := newEnv(t, nil)
	const deviceSecret = "correct-horse-battery-staple"
	tok, err := e.svc.Anonymous(ctx, "phone-1", deviceSecret)
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	e.db.View(ctx, func(r store.Reader) error {
		for _, kind := range []string{"login", "session", "refreshtoken", "identity", "signingkey"} {
			items, err := r.Find(ctx, store.Query{Kind: kind, Prefix: true, Limit: 1000})
			if err != nil {
				return err
			}
			for _, it := range items {
				docs = append(docs, it.ID, string(it.Doc))
			}
		}
		return nil
	})
	all := strings.Join(docs, "\n")
	for name, s := range map[string]string{"device secret": deviceSecret, "refresh token": tok.RefreshToken} {
		if strings.Contains(all, s) {
			t.Errorf("the %s is stored in the clear", name)
		}
	}
	var keyDoc struct{ SealedPrivate string }
	json.Unmarshal([]byte(docs[len(docs)-1]), &keyDoc)
	if keyDoc.SealedPrivate == "" || strings.Contains(all, `"d":`) {
		t.Error("the signing key's private part is not sealed")
	}
}

func TestDeviceIdentities(t *testing.T) {
	e := newEnv(t, nil)
	first, err := e.svc.Anonymous(ctx, "phone-1", "0123456789abcdef")
	if err != nil || !first.Created {
		t.Fatalf("%+v, %v", first, err)
	}
	t.Run("the same device and secret get the same identity", func(t *testing.T) {
		again, err := e.svc.Anonymous(ctx, "phone-1", "0123456789abcdef")
		if err != nil || again.IdentityID != first.IdentityID || again.Created {
			t.Fatalf("%+v, %v", again, err)
		}
	})
	t.Run("a wrong secret is refused", func(t *testing.T) {
		_, err := e.svc.Anonymous(ctx, "phone-1", "0123456789abcdeF")
		wantUnauthenticated(t, err)
	})
	t.Run("another device gets another identity", func(t *testing.T) {
		other, err := e.svc.Anonymous(ctx, "phone-2", "0123456789abcdef")
		if err != nil || other.IdentityID == first.IdentityID {
			t.Fatalf("%+v, %v", other, err)
		}
	})
	t.Run("no device makes a new identity every time", func(t *testing.T) {
		a, _ := e.svc.Anonymous(ctx, "", "")
		b, _ := e.svc.Anonymous(ctx, "", "")
		if a.IdentityID == b.IdentityID || a.IdentityID == first.IdentityID {
			t.Fatal("anonymous identities collide")
		}
	})
	for _, tt := range []struct{ name, id, secret, field string }{
		{"a device id without a secret", "phone-1", "", "$.deviceSecret"},
		{"a secret without a device id", "", "0123456789abcdef", "$.deviceId"},
		{"a short secret", "phone-1", "short", "$.deviceSecret"},
		{"a device id with spaces", "my phone", "0123456789abcdef", "$.deviceId"},
	} {
		t.Run(tt.name+" is invalid", func(t *testing.T) {
			_, err := e.svc.Anonymous(ctx, tt.id, tt.secret)
			var fe *fault.Error
			if !fault.Is(err, fault.Invalid) || !asFault(err, &fe) || fe.Fields[0].Field != tt.field {
				t.Fatalf("got %v, want Invalid naming %s", err, tt.field)
			}
		})
	}
	t.Run("concurrent first sign-ins of one device agree", func(t *testing.T) {
		var wg sync.WaitGroup
		ids := make([]string, 8)
		for i := range ids {
			wg.Go(func() {
				tok, err := e.svc.Anonymous(ctx, "tablet-9", "0123456789abcdef")
				if err != nil {
					t.Error(err)
				}
				ids[i] = tok.IdentityID
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("identities %v", ids)
			}
		}
	})
}

func TestDeveloperIdentities(t *testing.T) {
	e := newEnv(t, nil)
	a, err := e.svc.Developer(ctx, "user-42")
	if err != nil || !a.Created {
		t.Fatalf("%+v, %v", a, err)
	}
	b, err := e.svc.Developer(ctx, "user-42")
	if err != nil || b.IdentityID != a.IdentityID || b.Created {
		t.Fatalf("%+v, %v", b, err)
	}
	ids, err := e.svc.DeveloperIdentities(ctx, []string{"user-42", "user-43", "user-43"})
	if err != nil || ids["user-42"] != a.IdentityID || ids["user-43"] == "" || len(ids) != 2 {
		t.Fatalf("%v, %v", ids, err)
	}
	if _, err := e.svc.Developer(ctx, ""); !fault.Is(err, fault.Invalid) {
		t.Fatalf("empty user id: %v", err)
	}
	id, err := e.svc.Identity(ctx, a.IdentityID)
	if err != nil || id.Method != "developer" {
		t.Fatalf("%+v, %v", id, err)
	}
}

// gate is a SignInGate that answers err and counts what it was asked.
type gate struct {
	mu    sync.Mutex
	err   error
	asked []identity.SignIn
}

func (g *gate) BeforeSignIn(_ context.Context, in identity.SignIn) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.asked = append(g.asked, in)
	return g.err
}

func (g *gate) answer(err error) {
	g.mu.Lock()
	g.err = err
	g.mu.Unlock()
}

func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.asked)
}

// The gate (the studio's beforeSignIn hooks) is asked about a refresh only
// once its token is one the exchange accepts, so no one can make the
// server call the studio with a token they do not hold. A spent token is
// reuse: it revokes its session without asking, even while the hooks are
// down (a gate that cannot decide must not let a replayed token go
// unnoticed).
func TestARefreshAsksTheGateOnlyAboutATokenItWouldAccept(t *testing.T) {
	g := &gate{}
	e := newEnv(t, func(c *identity.Config) { c.Gate = g })
	first, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if n := g.count(); n != 2 || !g.asked[1].Refresh || g.asked[1].IdentityID != first.IdentityID {
		t.Fatalf("the gate was asked %+v; want the sign-in and the refresh", g.asked)
	}
	e.clk.Advance(2 * time.Minute) // past the grace of a lost answer's retry
	g.answer(fault.New(fault.NotReady, "a beforeSignIn hook could not decide"))

	_, err = e.svc.Refresh(ctx, "not-a-refresh-token")
	wantUnauthenticated(t, err)
	_, err = e.svc.Refresh(ctx, first.RefreshToken)
	wantUnauthenticated(t, err)
	if !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("the reuse of a spent token answers %q; want its session revoked", err)
	}
	_, err = e.svc.Refresh(ctx, second.RefreshToken)
	wantUnauthenticated(t, err)
	if n := g.count(); n != 2 {
		t.Fatalf("the gate was asked about tokens the exchange refuses: %+v", g.asked[2:])
	}
}
