package fleet

import (
	"context"

	"github.com/musterhq/muster/internal/store"
)

// HasIdleProcess reports whether the fleet location has at least one idle
// server process, with one index lookup: placement checks it outside its
// write transaction so that placements waiting for capacity cost only
// reads. (A process found idle here may be claimed by someone else before
// the write; ClaimIdleProcess decides.)
func HasIdleProcess(ctx context.Context, r store.Reader, fleetID, location string) (bool, error) {
	items, err := r.Find(ctx, store.Query{Kind: KindProcess, Key: 1, Value: fleetID + "/" + location + "/" + stateIdle, Limit: 1})
	return len(items) > 0, err
}
