package service

import (
	"context"
	"errors"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
)

// Get reads the record (kind, id) as a T, with its version. A missing
// record is a fault.NotFound whose message is format and args, which name
// the member the caller looked it up by (for example "FleetId: fleet %s
// not found").
func Get[T any](ctx context.Context, r store.Reader, kind, id, format string, args ...any) (T, int64, error) {
	v, version, err := store.GetJSON[T](ctx, r, kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return v, 0, fault.New(fault.NotFound, format, args...)
	}
	return v, version, err
}
