package hook

import (
	"context"
	"slices"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/webhook/sign"
)

// retiring is a rotated-out secret, kept in the hook's record so that the
// overlap holds across restarts and on every replica that reads it.
type retiring struct {
	secret.Stored
	// Until is when the secret stops signing.
	Until time.Time `json:"until"`
}

// RotateSecret gives a hook a new secret, returned once. The previous one
// keeps signing beside it for Config.RotationOverlap, so a studio's
// service that still knows only the old one accepts every call while it
// switches; a secret rotated out earlier keeps its own end.
func (s *Service) RotateSecret(ctx context.Context, id string) (*Created, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	plain := sign.NewSecret()
	rec, err := s.change(ctx, id, "rotate the secret of", func(_ store.Writer, rec *record) error {
		now := s.now()
		rec.rotate(secret.Keep(s.cfg.Box, plain, consumer(id)), now, now.Add(s.cfg.RotationOverlap))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Created{Hook: rec.Hook, Secret: plain}, nil
}

// rotate makes next the current secret and retires the current one until
// until, dropping retired secrets that have stopped signing at now.
func (rec *record) rotate(next secret.Stored, now, until time.Time) {
	kept := []retiring{{Stored: rec.Stored, Until: until}}
	for _, old := range rec.Retiring {
		if old.Until.After(now) {
			kept = append(kept, old)
		}
	}
	rec.Stored, rec.Retiring = next, kept
}

// signing signs a hook's calls: during an overlap the retiring secrets
// sign beside the current one, each until its own end. The phases are
// worked out when the registrations are read and chosen at each call, so
// an overlap ends on time however long ago the set was read.
type signing []phase

// phase is the signer in force before until (zero: from then on).
type phase struct {
	until  time.Time
	signer *sign.Signer
}

// at returns the signer in force at now.
func (g signing) at(now time.Time) *sign.Signer {
	for _, p := range g {
		if p.until.IsZero() || now.Before(p.until) {
			return p.signer
		}
	}
	return nil
}

// newSigning opens a hook's secrets and builds its phases. Only the
// current secret must open: a retiring one that does not (sealed under a
// master key since replaced, which a rotation is the way out of) is left
// out, and the new secret signs alone.
func (s *Service) newSigning(rec record) (signing, error) {
	current, err := rec.Reveal(s.cfg.Box, consumer(rec.ID))
	if err != nil {
		return nil, err
	}
	type timed struct {
		plain string
		until time.Time
	}
	var olds []timed
	for _, old := range rec.Retiring {
		if plain, err := old.Reveal(s.cfg.Box, consumer(rec.ID)); err == nil {
			olds = append(olds, timed{plain, old.Until})
		}
	}
	slices.SortFunc(olds, func(a, b timed) int { return a.until.Compare(b.until) })
	var g signing
	for i := range len(olds) + 1 {
		secrets := []string{current}
		for _, o := range olds[i:] {
			secrets = append(secrets, o.plain)
		}
		signer, err := sign.NewSigner(secrets...)
		if err != nil {
			return nil, err
		}
		p := phase{signer: signer}
		if i < len(olds) {
			p.until = olds[i].until
		}
		g = append(g, p)
	}
	return g, nil
}
