package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/service"
)

// newTransient gets a transient key from keys, revoked when the test ends.
func newTransient(t *testing.T, keys *identity.OperatorKeys, description string) (k *identity.TransientKey, id, secret string) {
	t.Helper()
	k = &identity.TransientKey{Keys: keys, Description: description}
	id, secret, err := k.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Revoke(context.Background()) })
	return k, id, secret
}

// TestATransientKeyOfACrashedRunIsRefusedAfterTheNextStart: a run that
// made a transient key and crashed (it never revoked it, and its timers
// died with it) leaves a key that stops working once its lease lapses and
// whose record the next start revokes; a live replica's transient key,
// renewed all along, keeps working through that start.
func TestATransientKeyOfACrashedRunIsRefusedAfterTheNextStart(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, _, err := e.keysOn(e.db).Create(ctx, auth.RoleAdmin, "the operator's"); err != nil {
		t.Fatal(err)
	}
	// The crashed run's clock is its own: nothing advances it, as nothing
	// runs its timers once the process is gone.
	crashed := identity.NewOperatorKeys(identity.KeysConfig{Base: service.Base{Store: e.db, Clock: clock.NewFake(t0)}, Box: e.box})
	_, crashedID, _ := newTransient(t, crashed, "agents of the crashed run")
	_, liveID, liveSecret := newTransient(t, e.keysOn(e.db), "agents of a live replica")

	e.clk.Advance(identity.TransientKeyTTL + time.Second)
	next := e.keysOn(e.db) // the next start
	_, _, err := next.OperatorSecret(ctx, crashedID)
	wantKeyNotFound(t, err)

	e.clk.Advance(identity.TransientKeyTTL)
	if n, err := next.RevokeLapsedTransient(ctx); err != nil || n != 1 {
		t.Fatalf("the start-up sweep revoked %d keys (%v), want the crashed run's one", n, err)
	}
	keys, _ := next.List(ctx)
	for _, k := range keys {
		if k.AccessKeyID == crashedID && !k.Revoked() {
			t.Fatalf("the crashed run's key is not revoked: %+v", k)
		}
		if k.AccessKeyID == liveID && k.Revoked() {
			t.Fatalf("the live replica's key was revoked: %+v", k)
		}
	}
	if got, _, err := next.OperatorSecret(ctx, liveID); err != nil || got != liveSecret {
		t.Fatalf("the live replica's key after the next start: %v", err)
	}
}

// TestATransientKeyLivesAsLongAsItsRun: the run that made a transient key
// keeps it working long past its TTL; once revoked, it works nowhere.
func TestATransientKeyLivesAsLongAsItsRun(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	keys := e.keysOn(e.db)
	if _, _, err := keys.Create(ctx, auth.RoleAdmin, "the operator's"); err != nil {
		t.Fatal(err)
	}
	k, id, secret := newTransient(t, keys, "local agents")
	other := e.keysOn(e.db)
	for range 10 {
		e.clk.Advance(identity.TransientKeyTTL)
		if n, err := other.RevokeLapsedTransient(ctx); err != nil || n != 0 {
			t.Fatalf("a sweep revoked %d keys (%v) while the run renews its key", n, err)
		}
	}
	if got, _, err := other.OperatorSecret(ctx, id); err != nil || got != secret {
		t.Fatalf("after 10 TTLs of the run: %v, want the key working", err)
	}
	if err := k.Revoke(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, err := keys.OperatorSecret(ctx, id)
	wantKeyNotFound(t, err)
}

// TestATransientKeyRevokedElsewhereIsReplaced: a transient key an operator
// revokes is not renewed back to life; the next Get makes another.
func TestATransientKeyRevokedElsewhereIsReplaced(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	keys := e.keysOn(e.db)
	if _, _, err := keys.Create(ctx, auth.RoleAdmin, "the operator's"); err != nil {
		t.Fatal(err)
	}
	k, id, _ := newTransient(t, keys, "local agents")
	if err := e.keysOn(e.db).Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(identity.TransientKeyRenewal)
	next, _, err := k.Get(ctx)
	if err != nil || next == id {
		t.Fatalf("Get after the key was revoked elsewhere: %s %v, want a new key", next, err)
	}
	_, _, err = keys.OperatorSecret(ctx, id)
	wantKeyNotFound(t, err)
}

// TestATransientKeyDoesNotCountAsAnotherAdminKey: with only a transient
// admin key beside it, the operator's last admin key cannot be revoked:
// the transient key goes with its run and would leave no admin key.
func TestATransientKeyDoesNotCountAsAnotherAdminKey(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	keys := e.keysOn(e.db)
	first, _, err := keys.Create(ctx, auth.RoleAdmin, "the operator's")
	if err != nil {
		t.Fatal(err)
	}
	newTransient(t, keys, "local agents")
	if err := keys.Revoke(ctx, first.AccessKeyID); !errors.Is(err, identity.ErrLastAdminKey) {
		t.Fatalf("revoking the last non-transient admin key: got %v, want ErrLastAdminKey", err)
	}
}
