package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// keyring is an immutable snapshot of the signing keys: those that sign,
// now or from their activation, and every public key still trusted.
type keyring struct {
	// signers are ordered by the time each starts signing; never empty.
	signers []ringSigner
	trusted map[string]trustedKey
	jwks    []byte
}

type ringSigner struct {
	kid    string
	from   time.Time
	signer jose.Signer
}

type trustedKey struct {
	alg jose.SignatureAlgorithm
	key any // crypto public key
	// until is when the key stops being trusted (zero: while it signs).
	until time.Time
}

// signerAt is the key that signs at now: the last one activated. The
// snapshot holds a rotated-in key before its activation, so the switch
// happens on time whenever the last reload was. A clock behind the one
// that made the first key finds none activated yet and takes the first.
func (r *keyring) signerAt(now time.Time) ringSigner {
	s := r.signers[0]
	for _, c := range r.signers[1:] {
		if !now.Before(c.from) {
			s = c
		}
	}
	return s
}

type atomicRing struct{ p atomic.Pointer[keyring] }

func (a *atomicRing) Load() *keyring   { return a.p.Load() }
func (a *atomicRing) Store(r *keyring) { a.p.Store(r) }

// load builds a keyring: keys not yet retired, or retired later than now,
// sign in turn; retired keys are trusted until retiredAt + lifetime +
// retiredKeyGrace; keys not yet active are trusted and published already.
func (k *SigningKeys) load(ctx context.Context, now time.Time, lifetime time.Duration) (*keyring, error) {
	keys, err := service.Read(ctx, k.Store, func(r store.Reader) ([]SigningKey, error) {
		return listSigningKeys(ctx, r)
	})
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	ring := &keyring{trusted: map[string]trustedKey{}}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, key := range keys {
		var until time.Time
		if !key.RetiredAt.IsZero() {
			until = key.RetiredAt.Add(lifetime + retiredKeyGrace)
			if !now.Before(until) {
				continue
			}
		}
		var pub jose.JSONWebKey
		if err := pub.UnmarshalJSON(key.Public); err != nil {
			return nil, fmt.Errorf("signing key %s: public key: %w", key.KID, err)
		}
		ring.trusted[key.KID] = trustedKey{alg: jose.SignatureAlgorithm(key.Alg), key: pub.Key, until: until}
		set.Keys = append(set.Keys, pub)
		if key.RetiredAt.IsZero() || now.Before(key.RetiredAt) {
			signer, err := k.signer(key)
			if err != nil {
				return nil, err
			}
			ring.signers = append(ring.signers, ringSigner{kid: key.KID, from: key.activation(), signer: signer})
		}
	}
	if len(ring.signers) == 0 {
		return nil, errors.New("load signing keys: there is no active signing key")
	}
	sort.SliceStable(ring.signers, func(i, j int) bool { return ring.signers[i].from.Before(ring.signers[j].from) })
	ring.jwks, err = json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	return ring, nil
}

// signer opens key's sealed private key.
func (k *SigningKeys) signer(key SigningKey) (jose.Signer, error) {
	plain, err := k.Box.Open(key.SealedPrivate, kindSigningKey+":"+key.KID)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", key.KID, err)
	}
	var priv jose.JSONWebKey
	if err := priv.UnmarshalJSON([]byte(plain)); err != nil {
		return nil, fmt.Errorf("signing key %s: private key: %w", key.KID, err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Alg), Key: priv},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", key.KID, err)
	}
	return signer, nil
}

// JWKS returns the JSON Web Key Set of the public keys that verify access
// tokens (GET /.well-known/jwks.json), including a rotated-in key that does
// not sign yet.
func (s *Service) JWKS() []byte { return s.ring.Load().jwks }
