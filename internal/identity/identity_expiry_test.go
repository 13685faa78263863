package identity_test

import (
	"errors"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/store"
)

// identityRecord returns identity id's store record and whether the store
// still has it.
func identityRecord(t *testing.T, e *env, id string) (store.Item, bool) {
	t.Helper()
	var it store.Item
	found := true
	err := e.db.View(ctx, func(r store.Reader) error {
		var err error
		it, err = r.Get(ctx, "identity", id)
		if errors.Is(err, store.ErrNotFound) {
			found = false
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return it, found
}

// wantIdentityExpiry checks the expiry of identity id's store record (the
// zero time for none), which the store keeps to the millisecond.
func wantIdentityExpiry(t *testing.T, e *env, id string, want time.Time) {
	t.Helper()
	it, found := identityRecord(t, e, id)
	if want = want.Truncate(time.Millisecond); !found || !it.ExpiresAt.Equal(want) {
		t.Fatalf("identity %s: expiry %v (found %v), want %v", id, it.ExpiresAt, found, want)
	}
}

// wantIdentityVersion checks how many times identity id was written.
func wantIdentityVersion(t *testing.T, e *env, id string, want int64) {
	t.Helper()
	if it, _ := identityRecord(t, e, id); it.Version != want {
		t.Fatalf("identity %s: version %d, want %d", id, it.Version, want)
	}
}

// wantIdentity checks that identity id reads back, or reads as not found.
func wantIdentity(t *testing.T, e *env, id string, live bool) {
	t.Helper()
	got, err := e.svc.Identity(ctx, id)
	switch {
	case live && err != nil:
		t.Fatalf("identity %s: %v", id, err)
	case live && got.IdentityID != id:
		t.Fatalf("identity %s read back as %+v", id, got)
	case !live && !fault.Is(err, fault.NotFound):
		t.Fatalf("identity %s: got %+v, %v; want NotFound", id, got, err)
	}
}

func TestLoginlessAnonymousIdentityExpiresWithItsLastSession(t *testing.T) {
	const lifetime = 30 * 24 * time.Hour
	e := newEnv(t, func(c *identity.Config) { c.RefreshTokenLifetime = lifetime })
	e.clk.Advance(1234567 * time.Nanosecond) // finer than the store keeps
	tok, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	wantIdentity(t, e, tok.IdentityID, true)
	wantIdentityExpiry(t, e, tok.IdentityID, e.clk.Now().Add(lifetime))
	// Written once at sign-in, and again at each refresh that raises it.
	wantIdentityVersion(t, e, tok.IdentityID, 1)

	// Two refreshes carry the session, and the identity, past the first
	// expiry.
	for range 2 {
		e.clk.Advance(lifetime - time.Hour)
		if tok, err = e.svc.Refresh(ctx, tok.RefreshToken); err != nil {
			t.Fatal(err)
		}
	}
	last := e.clk.Now()
	wantIdentityVersion(t, e, tok.IdentityID, 3)
	wantIdentity(t, e, tok.IdentityID, true)
	wantIdentityExpiry(t, e, tok.IdentityID, last.Add(lifetime))

	e.clk.Set(last.Add(lifetime - time.Millisecond))
	wantIdentity(t, e, tok.IdentityID, true)
	// Once the last session expired, nothing leads back to the identity,
	// and it is gone with it.
	e.clk.Set(last.Add(lifetime))
	_, err = e.svc.Refresh(ctx, tok.RefreshToken)
	wantUnauthenticated(t, err)
	wantIdentity(t, e, tok.IdentityID, false)
}

func TestAnIdentityWithTwoSessionsLastsUntilTheLaterExpiry(t *testing.T) {
	const lifetime = 30 * 24 * time.Hour
	e, a := guestWithLifetime(t, lifetime)
	bRefresh, err := e.svc.StartSession(ctx, a.IdentityID, identity.MethodAnonymous)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(10 * 24 * time.Hour)
	b, err := e.svc.Refresh(ctx, bRefresh)
	if err != nil {
		t.Fatal(err)
	}
	later := e.clk.Now().Add(lifetime)
	wantIdentityExpiry(t, e, a.IdentityID, later)
	raised, _ := identityRecord(t, e, a.IdentityID)

	// Under a shorter lifetime, refreshing session a gives it an earlier
	// expiry than b's: the identity keeps b's.
	e.restart(t, func(c *identity.Config) { c.RefreshTokenLifetime = 24 * time.Hour })
	e.clk.Advance(24 * time.Hour)
	a, err = e.svc.Refresh(ctx, a.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	wantIdentityExpiry(t, e, a.IdentityID, later)
	wantIdentityVersion(t, e, a.IdentityID, raised.Version)

	// Session a has expired; b keeps the identity until its own expiry.
	e.clk.Set(later.Add(-time.Millisecond))
	_, err = e.svc.Refresh(ctx, a.RefreshToken)
	wantUnauthenticated(t, err)
	wantIdentity(t, e, a.IdentityID, true)
	e.clk.Set(later)
	_, err = e.svc.Refresh(ctx, b.RefreshToken)
	wantUnauthenticated(t, err)
	wantIdentity(t, e, a.IdentityID, false)
}

func TestOnlyLoginlessAnonymousIdentitiesExpire(t *testing.T) {
	e := newEnv(t, nil)
	signIns := []func() (identity.Tokens, error){
		func() (identity.Tokens, error) { return e.svc.Anonymous(ctx, "device-1", "device-secret-0123456789") },
		func() (identity.Tokens, error) { return e.svc.Developer(ctx, "user-1") },
	}
	var kept []string
	for _, signIn := range signIns {
		for range 2 {
			tok, err := signIn()
			if err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(time.Hour)
			if _, err := e.svc.Refresh(ctx, tok.RefreshToken); err != nil {
				t.Fatal(err)
			}
			wantIdentityExpiry(t, e, tok.IdentityID, time.Time{})
			kept = append(kept, tok.IdentityID)
		}
	}
	imported, err := e.svc.DeveloperIdentities(ctx, []string{"user-2"})
	if err != nil {
		t.Fatal(err)
	}
	wantIdentityExpiry(t, e, imported["user-2"], time.Time{})
	kept = append(kept, imported["user-2"])

	guest, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	if _, err := e.svc.Refresh(ctx, guest.RefreshToken); err != nil {
		t.Fatal(err)
	}
	wantIdentityExpiry(t, e, guest.IdentityID, e.clk.Now().Add(identity.DefaultRefreshTokenLifetime))

	// Past every session's expiry, identities with a login remain.
	e.clk.Advance(2 * identity.DefaultRefreshTokenLifetime)
	for _, id := range kept {
		wantIdentity(t, e, id, true)
	}
	wantIdentity(t, e, guest.IdentityID, false)
}

func TestALoginlessAnonymousIdentityWithoutExpiryGetsOneAtItsNextRefresh(t *testing.T) {
	e := newEnv(t, nil)
	tok, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	// As identities were written before they had an expiry.
	err = e.db.Update(ctx, func(w store.Writer) error {
		it, err := w.Get(ctx, "identity", tok.IdentityID)
		if err != nil {
			return err
		}
		_, err = w.Put(ctx, store.Record{Kind: it.Kind, ID: it.ID, Doc: it.Doc, Keys: it.Keys, Version: it.Version})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantIdentityExpiry(t, e, tok.IdentityID, time.Time{})
	e.clk.Advance(time.Hour)
	if _, err := e.svc.Refresh(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	wantIdentityExpiry(t, e, tok.IdentityID, e.clk.Now().Add(identity.DefaultRefreshTokenLifetime))
}
