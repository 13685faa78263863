package service

import (
	"context"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
)

// Listing is one page of a /v1 admin listing.
type Listing[T any] struct {
	Items     []T    `json:"items"`
	NextToken string `json:"nextToken,omitempty"`
}

// ListArgs checks a /v1 listing's limit (1 to 100) and token, naming the
// query parameters limit and nextToken, and returns the cursor the page
// resumes after.
func ListArgs(limit int, token string) (after string, err error) {
	var v fault.Validator
	v.Check(limit >= 1 && limit <= 100, "limit", "must be 1 to 100")
	after, derr := store.DecodePageToken(token)
	v.Check(derr == nil, "nextToken", "is not a token this API returned")
	return after, v.Err()
}

// ListPage reads, in r, one page of the records of q (from q.After) as R and
// returns them as T through item. Items is never nil.
func ListPage[R, T any](ctx context.Context, r store.Reader, q store.Query, limit int, item func(R) T) (*Listing[T], error) {
	items, next, err := store.FindPage(ctx, r, q, limit)
	if err != nil {
		return nil, err
	}
	recs, err := store.Decode[R](items)
	out := &Listing[T]{Items: make([]T, 0, len(recs)), NextToken: next}
	for _, rec := range recs {
		out.Items = append(out.Items, item(rec))
	}
	return out, err
}
