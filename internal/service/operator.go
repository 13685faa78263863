package service

import (
	"context"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
)

// Authorize lets an operator's call in: it authorises the caller (write:
// a call that changes state) and then runs check, which names every bad
// member of the input in v, and returns the first refusal. Authorisation
// comes first, so a caller without the right learns nothing about which
// inputs are well formed. A nil check only authorises.
func Authorize(ctx context.Context, write bool, check func(v *fault.Validator)) error {
	if err := auth.RequireOperator(ctx, write); err != nil {
		return err
	}
	var v fault.Validator
	if check != nil {
		check(&v)
	}
	return v.Err()
}

// RequireOperatorOn authorises an operator's call on one named resource
// (write: a call that changes it) and checks the member that names it
// against its GameLift format.
func (b Base) RequireOperatorOn(ctx context.Context, write bool, member, format, name string) error {
	return Authorize(ctx, write, func(v *fault.Validator) { b.Formats.Check(v, member, format, name) })
}

// AuthorizeList is Authorize for a read that lists by page: after check,
// it reads the listing's Limit and NextToken members as Page does (def,
// max) and returns the page size and the cursor the page resumes after.
func AuthorizeList(ctx context.Context, limit *int32, def, max int, token string, check func(v *fault.Validator)) (n int, after string, err error) {
	err = Authorize(ctx, false, func(v *fault.Validator) {
		if check != nil {
			check(v)
		}
		n, after = Page(v, limit, def, max, token)
	})
	return n, after, err
}
