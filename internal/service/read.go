package service

import (
	"context"

	"github.com/musterhq/muster/internal/store"
)

// Read returns what read finds in one View of st, for the many reads of a
// single value (a record, a list) that would otherwise declare the value
// outside a closure and assign it inside.
func Read[T any](ctx context.Context, st store.Store, read func(store.Reader) (T, error)) (T, error) {
	var v T
	err := st.View(ctx, func(r store.Reader) error {
		var err error
		v, err = read(r)
		return err
	})
	return v, err
}
