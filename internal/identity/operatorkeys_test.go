package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
)

func TestTheLastActiveAdminKeyCannotBeRevoked(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	keys := operatorKeys(e)
	first, _, err := keys.Create(ctx, auth.RoleAdmin, "first")
	if err != nil {
		t.Fatal(err)
	}
	reader, _, err := keys.Create(ctx, auth.RoleReadOnly, "reader")
	if err != nil {
		t.Fatal(err)
	}

	err = keys.Revoke(ctx, first.AccessKeyID)
	if !errors.Is(err, identity.ErrLastAdminKey) || fault.KindOf(err) != fault.Conflict || !strings.Contains(err.Error(), "create another admin key first") {
		t.Fatalf("revoking the only admin key: got %v, want a Conflict naming the way out", err)
	}
	if _, _, err := keys.OperatorSecret(ctx, first.AccessKeyID); err != nil {
		t.Fatalf("the refused key no longer works: %v", err)
	}
	if err := keys.Revoke(ctx, reader.AccessKeyID); err != nil {
		t.Fatalf("a read-only key is not protected: %v", err)
	}

	second, _, err := keys.Create(ctx, auth.RoleAdmin, "second")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Revoke(ctx, first.AccessKeyID); err != nil {
		t.Fatalf("with another admin key active: %v", err)
	}
	if err := keys.Revoke(ctx, first.AccessKeyID); err != nil {
		t.Fatalf("revoking a revoked key again: %v", err)
	}
	if err := keys.Revoke(ctx, second.AccessKeyID); !errors.Is(err, identity.ErrLastAdminKey) {
		t.Fatalf("the second key, now the last: got %v", err)
	}
}

func TestATransientKeyIsMadeOnceWhenNeededAndRevokedAtTheEnd(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	keys := operatorKeys(e)
	if _, _, err := keys.Create(ctx, auth.RoleAdmin, "the operator's"); err != nil {
		t.Fatal(err)
	}
	k := &identity.TransientKey{Keys: keys, Description: "local agents"}
	if err := k.Revoke(ctx); err != nil {
		t.Fatalf("revoking a key never made: %v", err)
	}
	if n, _ := keys.Count(ctx); n != 1 {
		t.Fatalf("%d keys before the first Get, want 1", n)
	}
	id, secret, err := k.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id2, secret2, err := k.Get(ctx); err != nil || id2 != id || secret2 != secret {
		t.Fatalf("a second Get: %s %v, want the same key %s", id2, err, id)
	}
	if got, p, err := keys.OperatorSecret(ctx, id); err != nil || got != secret || p.Role != auth.RoleAdmin {
		t.Fatalf("the key: %v %+v, want an admin key with its secret", err, p)
	}
	if err := k.Revoke(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.OperatorSecret(ctx, id); err == nil {
		t.Fatal("the revoked key still works")
	}
	if next, _, err := k.Get(ctx); err != nil || next == id {
		t.Fatalf("a Get after Revoke: %s %v, want a new key", next, err)
	}
	if err := k.Revoke(ctx); err != nil {
		t.Fatal(err)
	}
}
