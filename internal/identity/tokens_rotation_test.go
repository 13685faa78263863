package identity_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/store"
)

// issue signs an access token for a session of its own.
func issue(t *testing.T, svc *identity.Service, sid string) string {
	t.Helper()
	tok, _, err := svc.IssueAccessToken("0192f0aa-8c4e-7c3b-9c1d-2f3a4b5c6d7e", sid)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A replica that reloaded half a second before another rotated the key
// must still accept the tokens the other signs next; and by the time any
// token of the new key exists, every replica's key set has it.
func TestARotatedKeyIsTrustedEverywhereBeforeItSigns(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.svc, e.service(t, nil) // b has just loaded its keys
	oldKID := jwks(t, a).Keys[0].KeyID
	rotatedAt := e.clk.Now()
	newKID, err := (&identity.SigningKeys{Store: e.db, Box: e.box, Clock: e.clk}).Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if set := jwks(t, a); len(set.Key(newKID)) != 1 {
		t.Fatalf("the new key is not published at once: %s", a.JWKS())
	}
	e.clk.Advance(500 * time.Millisecond)
	tok := issue(t, a, "session-1")
	if kidOf(t, tok) != oldKID {
		t.Fatalf("a token signed before the activation names %s, not the old key %s", kidOf(t, tok), oldKID)
	}
	if _, err := b.Verify(ctx, tok); err != nil {
		t.Fatalf("a token signed half a second after the rotation: %v", err)
	}
	// b's next periodic reload, long before the activation, learns the key.
	e.clk.Advance(identity.MaxRefreshInterval)
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if set := jwks(t, b); len(set.Key(newKID)) != 1 {
		t.Fatalf("another replica does not publish the new key a refresh interval on: %s", b.JWKS())
	}
	e.clk.Set(rotatedAt.Add(identity.KeyActivationDelay - time.Millisecond))
	if kid := kidOf(t, issue(t, a, "session-2")); kid != oldKID {
		t.Fatalf("a millisecond before the activation the token names %s, not the old key", kid)
	}
	e.clk.Set(rotatedAt.Add(identity.KeyActivationDelay))
	tok = issue(t, a, "session-3")
	if kidOf(t, tok) != newKID {
		t.Fatalf("at the activation the token names %s, not the new key %s", kidOf(t, tok), newKID)
	}
	if _, err := b.Verify(ctx, tok); err != nil {
		t.Fatalf("the first token of the new key on another replica: %v", err)
	}
}

func TestTwoRotationsInARowSignInTurn(t *testing.T) {
	e := newEnv(t, nil)
	keys := &identity.SigningKeys{Store: e.db, Box: e.box, Clock: e.clk}
	first := e.clk.Now()
	second, err := keys.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Second)
	third, err := keys.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(first.Add(identity.KeyActivationDelay))
	if kid := kidOf(t, issue(t, e.svc, "s")); kid != second {
		t.Fatalf("between the activations the token names %s, not the second key %s", kid, second)
	}
	e.clk.Set(first.Add(time.Second + identity.KeyActivationDelay))
	if kid := kidOf(t, issue(t, e.svc, "s")); kid != third {
		t.Fatalf("after both activations the token names %s, not the third key %s", kid, third)
	}
}

// gatedStore holds the next View until the test lets it go, so that a
// reload is in progress for as long as the test needs.
type gatedStore struct {
	store.Store
	gate atomic.Pointer[chan struct{}]
}

// hold makes the next View wait until the returned channel is closed.
func (g *gatedStore) hold() chan struct{} {
	ch := make(chan struct{})
	g.gate.Store(&ch)
	return ch
}

func (g *gatedStore) View(ctx context.Context, fn func(store.Reader) error) error {
	if ch := g.gate.Swap(nil); ch != nil {
		<-*ch
	}
	return g.Store.View(ctx, fn)
}

// Many first uses of a key this replica has not loaded yet (its periodic
// reloads failed, say) arrive together: one reloads and the others wait
// for that reload rather than being refused.
func TestFirstUsesOfAnUnknownKeyWaitForTheReloadInProgress(t *testing.T) {
	e := newEnv(t, nil)
	gated := &gatedStore{Store: e.db}
	b := e.service(t, func(c *identity.Config) { c.Store = gated })
	if _, err := (&identity.SigningKeys{Store: e.db, Box: e.box, Clock: e.clk}).Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(identity.KeyActivationDelay)
	if err := e.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	toks := make([]string, 64)
	for i := range toks {
		toks[i] = issue(t, e.svc, fmt.Sprintf("session-%d", i))
	}
	synctest.Test(t, func(t *testing.T) {
		release := gated.hold()
		results := make(chan error, len(toks))
		for _, tok := range toks {
			go func() {
				_, err := b.Verify(ctx, tok)
				results <- err
			}()
		}
		// Every goroutine is now either reading the store, waiting for
		// that read, or done.
		synctest.Wait()
		close(release)
		refused := 0
		for range toks {
			if err := <-results; err != nil {
				refused++
			}
		}
		if refused > 0 {
			t.Fatalf("%d of %d first uses of the new key were refused", refused, len(toks))
		}
	})
}
