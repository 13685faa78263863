package service

import (
	"context"

	"github.com/musterhq/muster/internal/store"
)

// RefuseInUse is the check before a delete or a change that needs nothing
// to depend on a resource any more: when q finds a record (a fleet still in
// a location, a configuration using a rule set, a ticket still active), it
// returns refuse with that record's id; when it finds none, nil. Read in
// the transaction that goes on to delete, the answer holds at commit.
func RefuseInUse(ctx context.Context, r store.Reader, q store.Query, refuse func(id string) error) error {
	q.Limit = 1
	items, err := r.Find(ctx, q)
	if err != nil || len(items) == 0 {
		return err
	}
	return refuse(items[0].ID)
}
