package service

import (
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
)

// Page reads a listing's Limit and NextToken members: it returns the page
// size (def when limit is nil) and the cursor the page resumes after, and
// names either member in v when it is bad. max bounds Limit when positive.
func Page(v *fault.Validator, limit *int32, def, max int, token string) (n int, after string) {
	n = def
	if limit != nil {
		n = int(*limit)
		if max > 0 {
			v.Check(n >= 1 && n <= max, "Limit", "must be 1 to %d", max)
		} else {
			v.Check(n >= 1, "Limit", "must be at least 1")
		}
	}
	after, err := store.DecodePageToken(token)
	v.Check(err == nil, "NextToken", "is not a token this API returned")
	return n, after
}
