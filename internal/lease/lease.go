package lease

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/musterhq/muster/internal/store"
)

// Store kinds.
const (
	// KindLease is a lease record: id = the piece's name, K1 = the holder.
	KindLease = "lease"
	// KindReplica is a live replica's record: id = the replica id. It
	// expires TTL after its last refresh.
	KindReplica = "replica"
)

// ErrLost means the lease is no longer held under the epoch the caller
// has: another replica took it, or it expired.
var ErrLost = errors.New("lease: lost")

// Lease is one holder's claim on a piece of work.
type Lease struct {
	Name   string `json:"name"`
	Holder string `json:"holder"`
	// Address is where the holder serves (for operators).
	Address string `json:"address,omitempty"`
	// Epoch increments at every acquisition; writes made under the lease
	// are checked against it.
	Epoch     int64     `json:"epoch"`
	Since     time.Time `json:"since"`
	ExpiresAt time.Time `json:"expiresAt"`
	// Released says the holder gave the lease up: another replica takes
	// it at once rather than after seeing it unrenewed for TTL.
	Released bool `json:"released,omitempty"`
}

// Check verifies, inside a write transaction, that l is still the current
// lease on its piece and has not expired at now (the caller's clock).
// Work done under a lease calls it in every transaction that acts on the
// ownership, so a replica woken from a pause cannot act on a stale one.
func Check(ctx context.Context, w store.Writer, l Lease, now time.Time) error {
	cur, _, err := store.GetJSON[Lease](ctx, w, KindLease, l.Name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s: %w", l.Name, ErrLost)
	}
	if err != nil {
		return err
	}
	if cur.Holder != l.Holder || cur.Epoch != l.Epoch || !now.Before(cur.ExpiresAt) {
		return fmt.Errorf("%s (epoch %d): %w", l.Name, l.Epoch, ErrLost)
	}
	return nil
}

// List returns every lease, by name, for operators.
func List(ctx context.Context, s store.Store) ([]Lease, error) {
	var out []Lease
	err := s.View(ctx, func(r store.Reader) error {
		return store.Walk(ctx, r, store.Query{Kind: KindLease, Prefix: true}, func(it store.Item) error {
			l, err := store.Decode[Lease]([]store.Item{it})
			if err != nil {
				return err
			}
			out = append(out, l[0])
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}
