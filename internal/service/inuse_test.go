package service_test

import (
	"context"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

func TestRefuseInUse(t *testing.T) {
	ctx := context.Background()
	db := newStore(t, map[string]string{"b": "banana", "c": "cherry"})
	refuse := func(id string) error { return fault.New(fault.Invalid, "Name: still used by %s", id) }
	check := func(q store.Query) error {
		return db.View(ctx, func(r store.Reader) error { return service.RefuseInUse(ctx, r, q, refuse) })
	}
	t.Run("a record that depends on it refuses, naming the first", func(t *testing.T) {
		if err := check(store.Query{Kind: "thing", Prefix: true}); !fault.Is(err, fault.Invalid) || err.Error() != "Name: still used by b" {
			t.Fatalf("RefuseInUse = %v, want the refusal naming b", err)
		}
	})
	t.Run("nothing that depends on it lets it go", func(t *testing.T) {
		if err := check(store.Query{Kind: "none", Prefix: true}); err != nil {
			t.Fatalf("RefuseInUse = %v, want nil", err)
		}
	})
}
