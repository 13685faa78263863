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

// errPageFull stops FilterPage's walk once a page is full.
var errPageFull = errors.New("store: page full")

// FilterPage is FindPage for a listing that keeps only some records: it
// decodes the documents of q in order from q.After, keeps those keep
// accepts (keep may adjust a document, for example to apply a status that
// time has changed), and stops at limit of them. The token for the next
// page is returned only when another accepted document follows, so a
// listing never ends with an empty page.
func FilterPage[T any](ctx context.Context, r Reader, q Query, limit int, keep func(*T) bool) (page []T, next string, err error) {
	last := q.After
	err = Walk(ctx, r, q, func(it Item) error {
		docs, err := Decode[T]([]Item{it})
		if err != nil || !keep(&docs[0]) {
			return err
		}
		if len(page) == limit {
			next = EncodePageToken(last)
			return errPageFull
		}
		page, last = append(page, docs[0]), q.Cursor(it)
		return nil
	})
	if errors.Is(err, errPageFull) {
		err = nil
	}
	return page, next, err
}

// FindAll decodes every document of q, reading in batches (Walk), for a
// caller that needs all of them: no statement is unbounded and no result
// is cut at an arbitrary limit.
func FindAll[T any](ctx context.Context, r Reader, q Query) ([]T, error) {
	var out []T
	err := Walk(ctx, r, q, func(it Item) error {
		docs, err := Decode[T]([]Item{it})
		if err == nil {
			out = append(out, docs[0])
		}
		return err
	})
	return out, err
}
