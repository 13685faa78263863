package sqlstore

import (
	"strconv"

	"github.com/musterhq/muster/internal/store"
)

// dumpPage is how many records one query of a dump reads.
const dumpPage = 1000

// Dump calls fn with every record, expired ones included, in (kind, id)
// order (store.Dumper). It reads a page at a time, each after the last
// record of the one before, with page, which runs a query with its
// arguments and returns the records it read.
func (d Dialect) Dump(fn func(store.Item) error, page func(query string, args ...any) ([]store.Item, error)) error {
	query := "SELECT " + ItemColumns + " FROM records WHERE (kind, id) > (" + d.Param(1) + ", " + d.Param(2) +
		") ORDER BY kind, id LIMIT " + strconv.Itoa(dumpPage)
	kind, id := "", ""
	for {
		items, err := page(query, kind, id)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(items) < dumpPage {
			return nil
		}
		kind, id = items[len(items)-1].Kind, items[len(items)-1].ID
	}
}
