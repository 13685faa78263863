package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

const kindSigningKey = "signingkey"

// EventSigningKeyRotated is written to the outbox when a new signing key
// takes over.
const EventSigningKeyRotated = "SigningKeyRotated"

// pruneAfter is how long a retired signing key is kept in the store. It is
// far beyond the longest access token lifetime, after which the key is no
// longer trusted or published anyway.
const pruneAfter = 30 * 24 * time.Hour

// SigningKey is a token signing key as stored: the private key is a JWK
// sealed with the master key, bound to the key id.
type SigningKey struct {
	KID           string          `json:"kid"`
	Alg           string          `json:"alg"`
	SealedPrivate string          `json:"sealedPrivate"`
	Public        json.RawMessage `json:"public"`
	CreatedAt     time.Time       `json:"createdAt"`
	// RetiredAt is when a newer key took over signing. A retired key still
	// verifies tokens (and is published) for one access token lifetime.
	RetiredAt time.Time `json:"retiredAt,omitzero"`
}

// SigningKeys manages the stored signing keys; `muster keys rotate-signing`
// uses it directly on the data directory.
type SigningKeys struct {
	Store store.Store
	Box   *secret.Box
	Clock clock.Clock
	// Alg is the algorithm of new keys (EdDSA or ES256).
	Alg jose.SignatureAlgorithm
}

func (s *Service) signingKeys() *SigningKeys {
	return &SigningKeys{Store: s.cfg.Store, Box: s.cfg.Box, Clock: s.cfg.Clock, Alg: s.cfg.SigningAlg}
}

// List returns every stored signing key, oldest first, without private keys.
func (k *SigningKeys) List(ctx context.Context) ([]SigningKey, error) {
	out, err := service.Read(ctx, k.Store, func(r store.Reader) ([]SigningKey, error) {
		return listSigningKeys(ctx, r)
	})
	for i := range out {
		out[i].SealedPrivate = ""
	}
	return out, err
}

func listSigningKeys(ctx context.Context, r store.Reader) ([]SigningKey, error) {
	out, err := all[SigningKey](ctx, r, kindSigningKey)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// Ensure creates the first signing key when there is no active one.
func (k *SigningKeys) Ensure(ctx context.Context) error {
	_, err := k.rotate(ctx, false)
	return err
}

// Rotate makes a new signing key the active one and retires the others;
// retired keys keep verifying tokens issued before the rotation for one
// access token lifetime. It returns the new key id.
func (k *SigningKeys) Rotate(ctx context.Context) (string, error) {
	return k.rotate(ctx, true)
}

func (k *SigningKeys) rotate(ctx context.Context, force bool) (string, error) {
	clk := k.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	alg := k.Alg
	if alg == "" {
		alg = jose.EdDSA
	}
	now := clk.Now().UTC()
	fresh, err := newSigningKey(k.Box, alg, now)
	if err != nil {
		return "", err
	}
	created := ""
	err = k.Store.Update(ctx, func(w store.Writer) error {
		keys, err := listSigningKeys(ctx, w)
		if err != nil {
			return err
		}
		active := 0
		for _, key := range keys {
			if key.RetiredAt.IsZero() {
				active++
			}
		}
		if active > 0 && !force {
			return nil
		}
		for _, key := range keys {
			switch {
			case key.RetiredAt.IsZero():
				key.RetiredAt = now
				if _, err := w.Put(ctx, store.Record{Kind: kindSigningKey, ID: key.KID, Doc: store.MustJSON(key), Upsert: true}); err != nil {
					return err
				}
			case now.Sub(key.RetiredAt) > pruneAfter:
				if err := w.Delete(ctx, kindSigningKey, key.KID, 0); err != nil {
					return err
				}
			}
		}
		if _, err := w.Put(ctx, store.Record{Kind: kindSigningKey, ID: fresh.KID, Doc: store.MustJSON(fresh)}); err != nil {
			return err
		}
		created = fresh.KID
		return w.Append(ctx, store.Event{Type: EventSigningKeyRotated, Resource: fresh.KID, Time: now,
			Doc: store.MustJSON(map[string]string{"kid": fresh.KID, "alg": fresh.Alg})})
	})
	if err != nil {
		return "", fmt.Errorf("rotate signing key: %w", err)
	}
	return created, nil
}

func newSigningKey(box *secret.Box, alg jose.SignatureAlgorithm, now time.Time) (SigningKey, error) {
	var priv any
	switch alg {
	case jose.EdDSA:
		_, p, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return SigningKey{}, err
		}
		priv = p
	case jose.ES256:
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return SigningKey{}, err
		}
		priv = p
	default:
		return SigningKey{}, fmt.Errorf("signing algorithm %q: must be EdDSA or ES256", alg)
	}
	kid := now.Format("20060102") + "-" + strings.ToLower(rand.Text()[:10])
	jwk := jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(alg), Use: "sig"}
	privJSON, err := jwk.MarshalJSON()
	if err != nil {
		return SigningKey{}, err
	}
	pubJSON, err := jwk.Public().MarshalJSON()
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{KID: kid, Alg: string(alg), SealedPrivate: box.Seal(string(privJSON), kindSigningKey+":"+kid),
		Public: pubJSON, CreatedAt: now}, nil
}

// keyring is an immutable snapshot of the signing keys: the one that signs
// and every public key still trusted.
type keyring struct {
	signer    jose.Signer
	signerKID string
	trusted   map[string]trustedKey
	jwks      []byte
}

type trustedKey struct {
	alg jose.SignatureAlgorithm
	key any // crypto public key
	// until is when the key stops being trusted (zero: while active).
	until time.Time
}

type atomicRing struct{ p atomic.Pointer[keyring] }

func (a *atomicRing) Load() *keyring   { return a.p.Load() }
func (a *atomicRing) Store(r *keyring) { a.p.Store(r) }

// load builds a keyring: the newest active key signs; retired keys are
// trusted until retiredAt + lifetime (+1 min for clocks of other replicas).
func (k *SigningKeys) load(ctx context.Context, now time.Time, lifetime time.Duration) (*keyring, error) {
	keys, err := service.Read(ctx, k.Store, func(r store.Reader) ([]SigningKey, error) {
		return listSigningKeys(ctx, r)
	})
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	ring := &keyring{trusted: map[string]trustedKey{}}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	var active *SigningKey
	for i, key := range keys {
		var until time.Time
		if !key.RetiredAt.IsZero() {
			until = key.RetiredAt.Add(lifetime + time.Minute)
			if !now.Before(until) {
				continue
			}
		} else {
			active = &keys[i]
		}
		var pub jose.JSONWebKey
		if err := pub.UnmarshalJSON(key.Public); err != nil {
			return nil, fmt.Errorf("signing key %s: public key: %w", key.KID, err)
		}
		ring.trusted[key.KID] = trustedKey{alg: jose.SignatureAlgorithm(key.Alg), key: pub.Key, until: until}
		set.Keys = append(set.Keys, pub)
	}
	if active == nil {
		return nil, errors.New("load signing keys: there is no active signing key")
	}
	plain, err := k.Box.Open(active.SealedPrivate, kindSigningKey+":"+active.KID)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", active.KID, err)
	}
	var priv jose.JSONWebKey
	if err := priv.UnmarshalJSON([]byte(plain)); err != nil {
		return nil, fmt.Errorf("signing key %s: private key: %w", active.KID, err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(active.Alg), Key: priv},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", active.KID, err)
	}
	ring.signer, ring.signerKID = signer, active.KID
	ring.jwks, err = json.Marshal(set)
	if err != nil {
		return nil, err
	}
	return ring, nil
}

// JWKS returns the JSON Web Key Set of the public keys that verify access
// tokens (GET /.well-known/jwks.json).
func (s *Service) JWKS() []byte { return s.ring.Load().jwks }

// all reads and decodes every record of kind.
func all[T any](ctx context.Context, r store.Reader, kind string) ([]T, error) {
	var out []T
	err := store.Walk(ctx, r, store.Query{Kind: kind, Prefix: true}, func(it store.Item) error {
		docs, err := store.Decode[T]([]store.Item{it})
		out = append(out, docs...)
		return err
	})
	return out, err
}
