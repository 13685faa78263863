package service

import (
	"context"
	"errors"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// CreateTagged stores a new resource (rec, with Version 0) and the tags it
// was created with, in the caller's transaction, so a resource never
// exists untagged. When a resource of that kind and id already exists the
// answer is exists, an error that names the member the caller chose the id
// by; a nil exists is for ids that cannot clash (fresh uuids). A Base
// without Tags (a service built in a test with only a store) stores no
// tags.
func (b Base) CreateTagged(ctx context.Context, w store.Writer, rec store.Record, arn string, tags []gamelift.Tag, exists error) error {
	if _, err := w.Put(ctx, rec); err != nil {
		if exists != nil && errors.Is(err, store.ErrConflict) {
			return exists
		}
		return err
	}
	if b.Tags == nil {
		return nil
	}
	return b.Tags.Set(ctx, w, arn, tags)
}
