package identity_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// keyReadCounter counts the reads (View) made through it.
type keyReadCounter struct {
	store.Store
	views atomic.Int64
}

func (c *keyReadCounter) View(ctx context.Context, fn func(store.Reader) error) error {
	c.views.Add(1)
	return c.Store.View(ctx, fn)
}

// replica is an OperatorKeys on e's store, as one replica has it.
func (e *env) keysOn(st store.Store) *identity.OperatorKeys {
	return identity.NewOperatorKeys(identity.KeysConfig{Base: service.Base{Store: st, Clock: e.clk}, Box: e.box})
}

func wantKeyNotFound(t *testing.T, err error) {
	t.Helper()
	if !fault.Is(err, fault.NotFound) {
		t.Fatalf("got %v, want NotFound", err)
	}
}

// TestUnknownAccessKeyIDsCostABoundedNumberOfStoreReads: requests naming
// made-up access key ids, each a different one, are refused from what the
// replica knows of its keys, read at most once per cache period, rather
// than with a store read each.
func TestUnknownAccessKeyIDsCostABoundedNumberOfStoreReads(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	counted := &keyReadCounter{Store: e.db}
	keys := e.keysOn(counted)
	if _, _, err := keys.Create(ctx, auth.RoleAdmin, "the operator's"); err != nil {
		t.Fatal(err)
	}
	counted.views.Store(0)
	for range 1000 {
		_, _, err := keys.OperatorSecret(ctx, identity.NewAccessKeyID())
		wantKeyNotFound(t, err)
	}
	if n := counted.views.Load(); n > 1 {
		t.Fatalf("1,000 unknown ids made %d store reads, want at most 1", n)
	}
	e.clk.Advance(5 * time.Second)
	for range 1000 {
		_, _, err := keys.OperatorSecret(ctx, identity.NewAccessKeyID())
		wantKeyNotFound(t, err)
	}
	if n := counted.views.Load(); n > 2 {
		t.Fatalf("2,000 unknown ids over two cache periods made %d store reads, want at most 2", n)
	}
}

// TestAKeyLookedUpUnknownWorksOnceCreated: a key created right after its
// id was looked up and found unknown works at once on the replica that
// created it, and within the cache period on another.
func TestAKeyLookedUpUnknownWorksOnceCreated(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	here, there := e.keysOn(e.db), e.keysOn(e.db)
	if _, _, err := here.Create(ctx, auth.RoleAdmin, "the operator's"); err != nil {
		t.Fatal(err)
	}
	const id, secret = "MKIACREATEDLATER0001", "a-secret-of-some-length"
	for _, keys := range []*identity.OperatorKeys{here, there} {
		_, _, err := keys.OperatorSecret(ctx, id)
		wantKeyNotFound(t, err)
	}
	if _, err := here.CreateWithSecret(ctx, id, secret, auth.RoleReadOnly, "made after the look-up"); err != nil {
		t.Fatal(err)
	}
	if got, p, err := here.OperatorSecret(ctx, id); err != nil || got != secret || p.Role != auth.RoleReadOnly {
		t.Fatalf("on the replica that created it: %v %+v, want the key at once", err, p)
	}
	e.clk.Advance(5 * time.Second)
	if got, _, err := there.OperatorSecret(ctx, id); err != nil || got != secret {
		t.Fatalf("on another replica after the cache period: %v, want the key", err)
	}
	if err := here.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, _, err := here.OperatorSecret(ctx, id)
	wantKeyNotFound(t, err)
}
