package store

import (
	"context"
	"encoding/base64"
	"errors"
)

// ErrBadPageToken is returned by DecodePageToken for a token this API did
// not hand out. Callers report it against their NextToken member.
var ErrBadPageToken = errors.New("store: not a page token this API returned")

// maxPageToken bounds a token before decoding: cursors are ids and key
// values, never kilobytes.
const maxPageToken = 1024

// EncodePageToken turns a query cursor (Query.Cursor, or any position a
// listing resumes from) into the opaque NextToken handed to clients.
func EncodePageToken(cursor string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursor))
}

// DecodePageToken reverses EncodePageToken. The empty token is the first
// page and decodes to the empty cursor.
func DecodePageToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	if len(token) > maxPageToken {
		return "", ErrBadPageToken
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", ErrBadPageToken
	}
	return string(b), nil
}

// FindPage reads one page of at most limit items of q, starting after
// q.After, and returns the token for the next page ("" on the last page).
// It reads one item more than it returns to know whether a next page exists.
func FindPage(ctx context.Context, r Reader, q Query, limit int) (items []Item, next string, err error) {
	q.Limit = limit + 1
	items, err = r.Find(ctx, q)
	if err != nil {
		return nil, "", err
	}
	if len(items) > limit {
		items = items[:limit]
		next = EncodePageToken(q.Cursor(items[limit-1]))
	}
	return items, next, nil
}

// walkBatch is how many items Walk reads per statement.
const walkBatch = 500

// Walk calls visit for every item of q, in the query's order, reading in
// batches so that no single statement returns an unbounded result. It
// starts after q.After and stops at the first error visit returns.
func Walk(ctx context.Context, r Reader, q Query, visit func(Item) error) error {
	q.Limit = walkBatch
	for {
		items, err := r.Find(ctx, q)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := visit(it); err != nil {
				return err
			}
		}
		if len(items) < walkBatch {
			return nil
		}
		q.After = q.Cursor(items[len(items)-1])
	}
}
