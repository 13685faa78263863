package service_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
)

// newStore opens a store in the test's folder, closed when the test ends,
// holding a record of kind "thing" for each of docs (id: doc).
func newStore(t *testing.T, docs map[string]string) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(ctx, func(w store.Writer) error {
		for id, doc := range docs {
			if _, err := w.Put(ctx, store.Record{Kind: "thing", ID: id, Doc: store.MustJSON(doc)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}
