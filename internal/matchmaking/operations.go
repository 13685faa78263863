// Helpers the control-API operations of rule sets and configurations share.

package matchmaking

import (
	"context"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
)

// pageArgs checks a Describe… operation's Limit (1 to 10, default 10) and
// NextToken, and returns the page size and where the page starts.
func pageArgs(v *fault.Validator, limit *int32, token string) (int, string) {
	n := 10
	if limit != nil {
		v.Check(*limit >= 1 && *limit <= 10, "Limit", "must be 1 to 10")
		n = int(*limit)
	}
	after, err := store.DecodePageToken(token)
	v.Check(err == nil, "NextToken", "is not a token this API returned")
	return n, after
}

// describe reads what a Describe… operation asks for: the records names
// name (get reads one; false leaves it out), or else one page of q of at
// most limit records. It returns them as wire shapes with the next page's
// token.
func describe[R, W any](ctx context.Context, st store.Store, names []string, get func(store.Reader, string) (R, bool, error),
	q store.Query, limit int, wire func(R) W) ([]W, string, error) {
	out := []W{}
	var next string
	err := st.View(ctx, func(r store.Reader) error {
		var recs []R
		if len(names) > 0 {
			for _, n := range names {
				rec, ok, err := get(r, n)
				if err != nil {
					return err
				}
				if ok {
					recs = append(recs, rec)
				}
			}
		} else {
			var err error
			if recs, next, err = store.FilterPage(ctx, r, q, limit, every[R]); err != nil {
				return err
			}
		}
		for _, rec := range recs {
			out = append(out, wire(rec))
		}
		return nil
	})
	return out, next, err
}

// every keeps every record of a listing (store.FilterPage).
func every[T any](*T) bool { return true }
