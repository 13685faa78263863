package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

const kindSigningKey = "signingkey"

// EventSigningKeyRotated is written to the outbox when a new signing key is
// made (it takes over signing KeyActivationDelay later).
const EventSigningKeyRotated = "SigningKeyRotated"

// pruneAfter is how long a retired signing key is kept in the store. It is
// far beyond the longest access token lifetime, after which the key is no
// longer trusted or published anyway.
const pruneAfter = 30 * 24 * time.Hour

// JWKSMaxAge is how long a client or proxy may cache the JSON Web Key Set
// (the max-age of GET /.well-known/jwks.json).
const JWKSMaxAge = 5 * time.Minute

// KeyActivationDelay is how long after a rotation the new key starts
// signing. Until then it is only published and trusted: every replica
// reloads keys within MaxRefreshInterval and every cached copy of the JWKS
// is at most JWKSMaxAge old, so by the time a token signed with the new key
// exists, every verifier already knows the key. Derived from both, so that
// neither can change without the other.
const KeyActivationDelay = MaxRefreshInterval + JWKSMaxAge

// retiredKeyGrace is how much longer than one access token lifetime after
// its retirement a key stays trusted: a replica that has not reloaded since
// the successor activated still signs with it (for up to
// MaxRefreshInterval), and replicas' clocks differ a little.
const retiredKeyGrace = time.Minute

// SigningKey is a token signing key as stored: the private key is a JWK
// sealed with the master key, bound to the key id.
type SigningKey struct {
	KID           string          `json:"kid"`
	Alg           string          `json:"alg"`
	SealedPrivate string          `json:"sealedPrivate"`
	Public        json.RawMessage `json:"public"`
	CreatedAt     time.Time       `json:"createdAt"`
	// ActivateAt is when the key starts signing (zero: at CreatedAt). It is
	// published and trusted from CreatedAt.
	ActivateAt time.Time `json:"activateAt,omitzero"`
	// RetiredAt is when a newer key takes over signing (the successor's
	// ActivateAt). A retired key still verifies tokens (and is published)
	// for one access token lifetime after it.
	RetiredAt time.Time `json:"retiredAt,omitzero"`
}

// activation is when the key starts signing.
func (k SigningKey) activation() time.Time {
	if k.ActivateAt.IsZero() {
		return k.CreatedAt
	}
	return k.ActivateAt
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

// Rotate makes a new signing key and retires the others: the new key is
// published and trusted at once and signs from KeyActivationDelay on, when
// the others stop signing; they keep verifying the tokens they signed for
// one access token lifetime after that. It returns the new key id.
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
		signing := 0
		for _, key := range keys {
			if key.RetiredAt.IsZero() {
				signing++
			}
		}
		if signing > 0 && !force {
			return nil
		}
		// A first key signs at once: no verifier holds an older key set
		// that lacks it, because there is none.
		fresh.ActivateAt = now
		if signing > 0 {
			fresh.ActivateAt = now.Add(KeyActivationDelay)
		}
		if err := retireKeys(ctx, w, keys, fresh.ActivateAt, now); err != nil {
			return err
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

// retireKeys ends the signing of every key that has no successor yet at
// at, and deletes the keys retired more than pruneAfter before now.
func retireKeys(ctx context.Context, w store.Writer, keys []SigningKey, at, now time.Time) error {
	for _, key := range keys {
		switch {
		case key.RetiredAt.IsZero():
			key.RetiredAt = at
			if _, err := w.Put(ctx, store.Record{Kind: kindSigningKey, ID: key.KID, Doc: store.MustJSON(key), Upsert: true}); err != nil {
				return err
			}
		case now.Sub(key.RetiredAt) > pruneAfter:
			if err := w.Delete(ctx, kindSigningKey, key.KID, 0); err != nil {
				return err
			}
		}
	}
	return nil
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
