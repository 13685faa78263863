package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/ids"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// An identity is a player as Muster knows it: a stable id (a UUIDv7) that
// access tokens carry as their subject and the player data table is keyed
// by. Logins map the ways a player signs in to that id, one record each:
// "device:<deviceId>", "developer:<userId>", "oidc:<provider>:<subject>".
const (
	kindIdentity = "identity"
	kindLogin    = "login"
)

// Sign-in methods, as recorded on identities and sessions.
const (
	MethodAnonymous = "anonymous"
	MethodDevice    = "device"
	MethodDeveloper = "developer"
	MethodOIDC      = "oidc"
)

// Identity is a player identity as stored.
type Identity struct {
	IdentityID string    `json:"identityId"`
	Method     string    `json:"method"`
	CreatedAt  time.Time `json:"createdAt"`
}

type loginDoc struct {
	IdentityID string `json:"identityId"`
	// SecretSalt and SecretHash hold a device secret as SHA-256(salt ||
	// secret); the secret itself is never stored.
	SecretSalt string    `json:"secretSalt,omitempty"`
	SecretHash string    `json:"secretHash,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
}

var deviceIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:\-]{1,128}$`)

// Device secret bounds: a device secret is machine-made (a random string the
// game stores on the device), so a fast salted hash is enough, as for
// refresh tokens; a short one is refused.
const (
	MinDeviceSecretLen = 16
	MaxDeviceSecretLen = 256
	MaxUserIDLen       = 512
)

// Anonymous signs in a player without credentials. With no device it makes
// a new identity each time. With a device id and secret, the first call
// makes an identity bound to that device and later calls with the same
// secret return the same identity; a wrong secret is refused.
func (s *Service) Anonymous(ctx context.Context, deviceID, deviceSecret string) (Tokens, error) {
	if deviceID == "" && deviceSecret == "" {
		return s.signIn(ctx, "", MethodAnonymous, "", nil)
	}
	var v fault.Validator
	v.Check(deviceIDPattern.MatchString(deviceID), "$.deviceId", "must be 1 to 128 letters, digits or . _ : -")
	v.Check(len(deviceSecret) >= MinDeviceSecretLen && len(deviceSecret) <= MaxDeviceSecretLen && printableASCII(deviceSecret),
		"$.deviceSecret", "must be %d to %d printable ASCII characters", MinDeviceSecretLen, MaxDeviceSecretLen)
	if err := v.Err(); err != nil {
		return Tokens{}, err
	}
	return s.signIn(ctx, "device:"+deviceID, MethodDevice, deviceSecret, func(l loginDoc) error {
		if l.SecretHash == "" {
			return fault.New(fault.Unauthenticated, "device secret does not match")
		}
		got := hashSecret(l.SecretSalt, deviceSecret)
		if !hmac.Equal([]byte(got), []byte(l.SecretHash)) {
			return fault.New(fault.Unauthenticated, "device secret does not match")
		}
		return nil
	})
}

// Developer signs in the studio's own user userID; the caller (an operator
// key, that is the studio's backend) vouches for the user.
func (s *Service) Developer(ctx context.Context, userID string) (Tokens, error) {
	if err := checkUserID(userID); err != nil {
		return Tokens{}, err
	}
	return s.signIn(ctx, "developer:"+userID, MethodDeveloper, "", nil)
}

// DeveloperIdentities returns the identities of the studio's users
// userIDs, making those there are none for, in one transaction and without
// starting sessions (for importing a player base).
func (s *Service) DeveloperIdentities(ctx context.Context, userIDs []string) (map[string]string, error) {
	for i, u := range userIDs {
		if err := checkUserID(u); err != nil {
			return nil, fmt.Errorf("user %d: %w", i, err)
		}
	}
	now := s.cfg.Clock.Now().UTC()
	var out map[string]string
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		out = make(map[string]string, len(userIDs))
		for _, u := range userIDs {
			if _, done := out[u]; done {
				continue
			}
			id, _, err := s.identityFor(ctx, w, "developer:"+u, MethodDeveloper, nil, "", now)
			if err != nil {
				return err
			}
			out[u] = id
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("developer identities: %w", err)
	}
	return out, nil
}

func checkUserID(userID string) error {
	var v fault.Validator
	v.Check(userID != "" && len(userID) <= MaxUserIDLen && utf8.ValidString(userID), "$.userId", "must be 1 to %d bytes of UTF-8", MaxUserIDLen)
	return v.Err()
}

// Identity returns a stored identity.
func (s *Service) Identity(ctx context.Context, identityID string) (Identity, error) {
	return service.Read(ctx, s.cfg.Store, func(r store.Reader) (Identity, error) {
		id, _, err := service.Get[Identity](ctx, r, kindIdentity, identityID, "identity %s not found", identityID)
		return id, err
	})
}

// signIn finds or makes the identity of login (a new one each time when
// login is ""), starts a session and signs its first access token, all in
// one transaction. check vets an existing login; secret is a device secret
// to store with a new one.
func (s *Service) signIn(ctx context.Context, login, method, secret string, check func(loginDoc) error) (Tokens, error) {
	// A sign-in starts new work: while the store's writer is behind it is
	// refused at once (store.Admit), so the writer serves the players
	// already signed in. Refreshing a token is always taken.
	if err := store.Admit(s.cfg.Store, "sign-in"); err != nil {
		return Tokens{}, fmt.Errorf("sign in (%s): %w", method, err)
	}
	now := s.cfg.Clock.Now().UTC()
	var id, sid, rt string
	var created bool
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		err = s.cfg.Store.Update(ctx, func(w store.Writer) error {
			var err error
			id, created, err = s.identityFor(ctx, w, login, method, check, secret, now)
			if err != nil {
				return err
			}
			sid, rt, err = s.startSession(ctx, w, id, method, now)
			return err
		})
		// A conflict means two first sign-ins of one login raced and the
		// other made the identity: the second attempt finds it.
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		if fault.KindOf(err) != fault.Internal {
			return Tokens{}, err
		}
		return Tokens{}, fmt.Errorf("sign in (%s): %w", method, err)
	}
	if err := s.gateSignIn(ctx, SignIn{IdentityID: id, Method: method, Created: created}, sid); err != nil {
		return Tokens{}, err
	}
	return s.finish(id, sid, rt, created)
}

// identityFor returns the identity of login inside w, making identity and
// login when the login is new (or when login is ""). A loginless one
// expires with its sessions (expiresWithSessions).
func (s *Service) identityFor(ctx context.Context, w store.Writer, login, method string, check func(loginDoc) error, secret string, now time.Time) (string, bool, error) {
	if login != "" {
		l, _, err := store.GetJSON[loginDoc](ctx, w, kindLogin, login)
		switch {
		case err == nil:
			if check != nil {
				if err := check(l); err != nil {
					return "", false, err
				}
			}
			return l.IdentityID, false, nil
		case !errors.Is(err, store.ErrNotFound):
			return "", false, err
		}
	}
	ident := Identity{IdentityID: ids.UUID(), Method: method, CreatedAt: now}
	rec := store.Record{Kind: kindIdentity, ID: ident.IdentityID, Doc: store.MustJSON(ident)}
	if login == "" && expiresWithSessions(method) {
		// The expiry of the session signIn starts next, at the same now:
		// written with it, the record is never written twice.
		rec.ExpiresAt = s.sessionExpiry(now)
	}
	if _, err := w.Put(ctx, rec); err != nil {
		return "", false, err
	}
	if login != "" {
		l := loginDoc{IdentityID: ident.IdentityID, CreatedAt: now}
		if secret != "" {
			l.SecretSalt = rand.Text()
			l.SecretHash = hashSecret(l.SecretSalt, secret)
		}
		// Version 0: fails with ErrConflict if a concurrent sign-in made it.
		if _, err := w.Put(ctx, store.Record{Kind: kindLogin, ID: login, Doc: store.MustJSON(l), Keys: store.Keys{ident.IdentityID}}); err != nil {
			return "", false, err
		}
	}
	return ident.IdentityID, true, nil
}

// expiresWithSessions says whether an identity made by method lives only as
// long as its sessions. An anonymous identity without a device has no
// login: only a refresh token of one of its sessions leads back to it, so
// once the last has expired no one can use it again, and keeping it would
// let any client grow the store without bound by signing in again and
// again. Identities with a login (device, developer, OIDC) never expire:
// the login signs in to them again. MethodAnonymous is only ever made
// without a login (a device sign-in is MethodDevice), so the method tells
// them apart, also on sessions and on identities made before identities
// had an expiry. Whatever gives such an identity a login one day must
// clear its expiry.
func expiresWithSessions(method string) bool { return method == MethodAnonymous }

// keepIdentity makes, inside w, the identity identityID outlive exp, the
// expiry just given to one of its sessions (made by method), when the
// identity expires with its sessions. The identity's expiry is only ever
// raised: it may have other sessions, and one refreshed under a shorter
// RefreshTokenLifetime (after a restart) gets an earlier expiry than
// another may have. It is written only when it rises: an exchange under an
// unchanged lifetime raises it (one read and one write more, none for
// identities with a login); the first session's expiry, which identityFor
// wrote already, does not. A loginless anonymous identity made before
// identities had an expiry has none (the zero time, before any exp): its
// next session write gives it one. One whose sessions had all expired by
// then is kept, as before: nothing leads to it to give it an expiry.
func keepIdentity(ctx context.Context, w store.Writer, identityID, method string, exp time.Time) error {
	if !expiresWithSessions(method) {
		return nil
	}
	it, err := w.Get(ctx, kindIdentity, identityID)
	if err != nil {
		return fmt.Errorf("identity %s: %w", identityID, err)
	}
	// The store keeps expiries to the millisecond: compared finer, the
	// expiry identityFor wrote would always look lower.
	if !it.ExpiresAt.Before(exp.Truncate(time.Millisecond)) {
		return nil
	}
	_, err = w.Put(ctx, store.Record{Kind: kindIdentity, ID: identityID, Doc: it.Doc, Keys: it.Keys, Version: it.Version, ExpiresAt: exp})
	if err != nil {
		return fmt.Errorf("extend identity %s: %w", identityID, err)
	}
	return nil
}

func hashSecret(salt, secret string) string {
	sum := sha256.Sum256([]byte(salt + "\x00" + secret))
	return hex.EncodeToString(sum[:])
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
