package identity_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/store"
)

// A logout on a replica with a short lifetime holds on one with a long
// lifetime, for as long as that one's tokens live, and across its restart.
func TestALogoutHoldsOnReplicasWithALongerLifetime(t *testing.T) {
	e := newEnv(t, func(c *identity.Config) { c.AccessTokenLifetime = time.Hour })
	long := func() *identity.Service {
		return e.service(t, func(c *identity.Config) { c.AccessTokenLifetime = 24 * time.Hour })
	}
	b := long()
	tok, err := b.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Logout(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	for _, after := range []time.Duration{0, 62 * time.Minute, 23 * time.Hour} {
		e.clk.Set(t0.Add(after))
		if err := b.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := b.Verify(ctx, tok.AccessToken)
		wantUnauthenticated(t, err)
		_, err = long().Verify(ctx, tok.AccessToken)
		wantUnauthenticated(t, err)
	}
}

// countingStore counts the revocation records its readers return.
type countingStore struct {
	store.Store
	read atomic.Int64
}

func (c *countingStore) View(ctx context.Context, fn func(store.Reader) error) error {
	return c.Store.View(ctx, func(r store.Reader) error { return fn(countingReader{r, c}) })
}

type countingReader struct {
	store.Reader
	c *countingStore
}

func (r countingReader) Find(ctx context.Context, q store.Query) ([]store.Item, error) {
	items, err := r.Reader.Find(ctx, q)
	if slices.Contains(identity.RevocationKinds, q.Kind) {
		r.c.read.Add(int64(len(items)))
	}
	return items, err
}

func TestAReloadReadsOnlyTheRevocationsItHasNotSeen(t *testing.T) {
	e := newEnv(t, nil)
	counting := &countingStore{Store: e.db}
	b := e.service(t, func(c *identity.Config) { c.Store = counting })
	logout := func() identity.Tokens {
		tok, err := e.svc.Anonymous(ctx, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Logout(ctx, tok.RefreshToken); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	var out []identity.Tokens
	for range 40 {
		out = append(out, logout())
	}
	counting.read.Store(0)
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if n := counting.read.Load(); n != 40 {
		t.Fatalf("the first reload read %d revocations, want 40", n)
	}
	out = append(out, logout())
	counting.read.Store(0)
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if n := counting.read.Load(); n != 1 {
		t.Fatalf("a reload after one more logout read %d revocations, want 1", n)
	}
	for _, tok := range out {
		_, err := b.Verify(ctx, tok.AccessToken)
		wantUnauthenticated(t, err)
	}
}

// A revocation is forgotten once the tokens it covers have expired: in
// memory after this replica's lifetime (+1 min), in the store after the
// longest lifetime any replica may have (+1 min).
func TestRevocationsArePrunedWhenTheirTokensHaveExpired(t *testing.T) {
	e := newEnv(t, nil)
	tok, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Logout(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	reload := func(at time.Duration) {
		t.Helper()
		e.clk.Set(t0.Add(at))
		if err := e.svc.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() int {
		t.Helper()
		var n int
		err := e.db.View(ctx, func(r store.Reader) error {
			for _, kind := range identity.RevocationKinds {
				items, err := r.Find(ctx, store.Query{Kind: kind, Prefix: true})
				n += len(items)
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if e.svc.RevokedSessions() != 1 || stored() != 1 {
		t.Fatalf("after a logout: %d in memory, %d stored, want 1 and 1", e.svc.RevokedSessions(), stored())
	}
	reload(time.Hour + time.Minute - time.Millisecond)
	if e.svc.RevokedSessions() != 1 {
		t.Fatal("a revocation was forgotten before its tokens expired")
	}
	reload(time.Hour + time.Minute)
	if n := e.svc.RevokedSessions(); n != 0 {
		t.Fatalf("%d revocations remembered after their tokens expired", n)
	}
	if e.restart(t, nil); e.svc.RevokedSessions() != 0 {
		t.Fatal("a restart remembers a revocation whose tokens have expired")
	}
	if stored() != 1 {
		t.Fatal("the revocation left the store before a replica with the longest lifetime is done with it")
	}
	e.clk.Set(t0.Add(identity.MaxAccessTokenLifetime + time.Minute))
	if n := stored(); n != 0 {
		t.Fatalf("%d revocations stored after the longest lifetime", n)
	}
}

// Revocations written before they were numbered (one record per session
// id, expiring a lifetime + 1 min on), as replicas not yet upgraded still
// write them, hold on upgraded ones: at open and at each reload.
func TestUnnumberedRevocationsStillHold(t *testing.T) {
	e := newEnv(t, nil)
	sids := []string{"0192f0aa-8c4e-7c3b-9c1d-000000000001", "0192f0aa-8c4e-7c3b-9c1d-000000000002"}
	writeOld := func(sid string) {
		t.Helper()
		err := e.db.Update(ctx, func(w store.Writer) error {
			_, err := w.Put(ctx, store.Record{Kind: "revokedsession", ID: sid, Doc: []byte(`{}`), ExpiresAt: t0.Add(time.Hour + time.Minute)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	toks := []string{issue(t, e.svc, sids[0]), issue(t, e.svc, sids[1])}
	writeOld(sids[0])
	e.restart(t, nil)
	writeOld(sids[1])
	if err := e.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		_, err := e.svc.Verify(ctx, tok)
		wantUnauthenticated(t, err)
	}
}
