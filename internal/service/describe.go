package service

import (
	"context"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
)

// Describe reads what a Describe… or List… operation asks for, in one
// View: the records names names (get reads one and says whether to keep
// it, so an operation chooses between dropping an unknown name and
// refusing it), or else one page of q of at most limit records. It
// returns them as wire shapes with the token of the next page.
func Describe[R, W any](ctx context.Context, st store.Store, names []string, get func(store.Reader, string) (R, bool, error),
	q store.Query, limit int, wire func(R) W) ([]W, string, error) {
	if len(names) == 0 {
		return List(ctx, st, q, limit, nil, wire)
	}
	out := []W{}
	err := st.View(ctx, func(r store.Reader) error {
		for _, n := range names {
			rec, ok, err := get(r, n)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, wire(rec))
			}
		}
		return nil
	})
	return out, "", err
}

// List reads, in one View, one page of q of at most limit records that
// keep keeps (every one when keep is nil), and returns them as wire shapes
// with the token of the next page. The list is never nil.
func List[R, W any](ctx context.Context, st store.Store, q store.Query, limit int, keep func(*R) bool, wire func(R) W) ([]W, string, error) {
	if keep == nil {
		keep = every[R]
	}
	var recs []R
	var next string
	err := st.View(ctx, func(r store.Reader) error {
		var err error
		recs, next, err = store.FilterPage(ctx, r, q, limit, keep)
		return err
	})
	out := make([]W, 0, len(recs))
	for _, rec := range recs {
		out = append(out, wire(rec))
	}
	return out, next, err
}

// every keeps every record of a listing (store.FilterPage).
func every[T any](*T) bool { return true }

// Dropped is the answer of a Describe get for an operation that drops
// the names it does not know, as GameLift does: a record that is not
// found is left out instead of failing the whole read.
func Dropped[R any](rec R, err error) (R, bool, error) {
	if fault.Is(err, fault.NotFound) {
		return rec, false, nil
	}
	return rec, err == nil, err
}
