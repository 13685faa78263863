package service

import (
	"context"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
)

// RequireOperatorOn authorises an operator's call on one named resource
// (write: a call that changes it) and checks the member that names it
// against its GameLift format. Authorisation comes first, so a caller
// without the right learns nothing about which names are well formed.
func (b Base) RequireOperatorOn(ctx context.Context, write bool, member, format, name string) error {
	if err := auth.RequireOperator(ctx, write); err != nil {
		return err
	}
	var v fault.Validator
	b.Formats.Check(&v, member, format, name)
	return v.Err()
}
