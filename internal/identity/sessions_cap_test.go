package identity_test

import (
	"testing"

	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/store"
)

const phoneSecret = "correct-horse-battery-staple"

// signInTimes signs the device "phone-1" in n times: n sessions of one
// identity.
func signInTimes(t *testing.T, svc *identity.Service, n int) []identity.Tokens {
	t.Helper()
	out := make([]identity.Tokens, n)
	for i := range out {
		tok, err := svc.Anonymous(ctx, "phone-1", phoneSecret)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = tok
	}
	return out
}

// storedSessions counts the session records of identityID the store holds,
// expired ones included.
func storedSessions(t *testing.T, e *env, identityID string) int {
	t.Helper()
	n := 0
	err := e.db.DumpRecords(ctx, func(it store.Item) error {
		if it.Kind == "session" && it.Keys[0] == identityID {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTheSignInPastTheCapEndsTheOldestSession(t *testing.T) {
	e := newEnv(t, nil)
	other := e.service(t, nil) // another replica on the same store
	toks := signInTimes(t, e.svc, identity.MaxSessionsPerIdentity)
	oldest := toks[0]
	if _, err := other.Verify(ctx, oldest.AccessToken); err != nil {
		t.Fatal(err)
	}

	signInTimes(t, e.svc, 1)

	t.Run("its refresh token is refused", func(t *testing.T) {
		_, err := e.svc.Refresh(ctx, oldest.RefreshToken)
		wantUnauthenticated(t, err)
	})
	t.Run("its access token is refused on this replica at once", func(t *testing.T) {
		_, err := e.svc.Verify(ctx, oldest.AccessToken)
		wantUnauthenticated(t, err)
	})
	t.Run("its access token is refused on another replica after its reload", func(t *testing.T) {
		if err := other.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := other.Verify(ctx, oldest.AccessToken)
		wantUnauthenticated(t, err)
	})
	t.Run("the store keeps no more sessions than the cap", func(t *testing.T) {
		if n := storedSessions(t, e, oldest.IdentityID); n != identity.MaxSessionsPerIdentity {
			t.Fatalf("%d session records, want %d", n, identity.MaxSessionsPerIdentity)
		}
	})
	t.Run("the other sessions live on", func(t *testing.T) {
		if _, err := other.Verify(ctx, toks[1].AccessToken); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Refresh(ctx, toks[1].RefreshToken); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSessionsThatEndedDoNotCountTowardsTheCap(t *testing.T) {
	e := newEnv(t, nil)
	toks := signInTimes(t, e.svc, identity.MaxSessionsPerIdentity)
	if err := e.svc.Logout(ctx, toks[5].RefreshToken); err != nil {
		t.Fatal(err)
	}
	signInTimes(t, e.svc, 1)
	if _, err := e.svc.Refresh(ctx, toks[0].RefreshToken); err != nil {
		t.Fatalf("a sign-in back at the cap after a logout ended the oldest session: %v", err)
	}
	// Age is counted from the sign-in: a refresh does not make a session
	// younger, so the next sign-in past the cap ends toks[0]'s.
	signInTimes(t, e.svc, 1)
	_, err := e.svc.Verify(ctx, toks[0].AccessToken)
	wantUnauthenticated(t, err)
	if _, err := e.svc.Verify(ctx, toks[1].AccessToken); err != nil {
		t.Fatal(err)
	}
}
