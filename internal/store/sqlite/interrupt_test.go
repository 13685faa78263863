package sqlite

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/storetest"
)

// slowDelete is a DELETE that deletes nothing but takes many steps of
// SQLite's: its subquery counts 60,000 rows first.
const slowDelete = `DELETE FROM records WHERE (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 60000) SELECT count(*) FROM c) < 0`

// endsMidway is a context that ends while a statement runs under it, with
// no timing involved: it reports itself cancelled from its hundredth Err
// on, past database/sql's checks before a statement, while SQLite's
// progress handler asks it every thousand steps.
type endsMidway struct {
	context.Context
	asked atomic.Int32
	never chan struct{}
}

func (c *endsMidway) Done() <-chan struct{} { return c.never }

func (c *endsMidway) Err() error {
	if c.asked.Add(1) > 100 {
		return context.Canceled
	}
	return nil
}

// TestAStatementOutlivesItsCallersContext: a statement of the writer runs
// to its end even when the context of the function that made it ends
// meanwhile. SQLite would interrupt it, and an interrupted DELETE rolls
// back the whole transaction: the batch's other writes would be lost (or,
// later in the batch, commit on their own outside it).
func TestAStatementOutlivesItsCallersContext(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "muster.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	release := storetest.HoldWriter(t, db)
	var wg sync.WaitGroup
	var firstErr, slowErr error
	wg.Go(func() {
		firstErr = db.Update(ctx, func(w store.Writer) error {
			_, err := w.Put(ctx, store.Record{Kind: "k", ID: "first", Doc: []byte(`{}`)})
			return err
		})
	})
	storetest.WaitQueued(t, db, 2)
	callCtx := &endsMidway{Context: ctx, never: make(chan struct{})}
	wg.Go(func() {
		slowErr = db.Update(callCtx, func(w store.Writer) error {
			_, err := w.(*txWriter).q.ExecContext(callCtx, slowDelete)
			return err
		})
	})
	storetest.WaitQueued(t, db, 3)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if slowErr != nil {
		t.Errorf("the statement whose caller gave up: %v; want it run to its end", slowErr)
	}
	getErr := db.View(ctx, func(r store.Reader) error {
		_, err := r.Get(ctx, "k", "first")
		return err
	})
	if firstErr != nil || getErr != nil {
		t.Errorf("the write before it in the batch: %v, read back: %v; want it committed", firstErr, getErr)
	}
}
