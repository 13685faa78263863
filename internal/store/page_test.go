package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
)

// openEmpty opens a fresh SQLite store, closed when the test ends.
func openEmpty(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openWithRecords(t *testing.T, n int) store.Store {
	t.Helper()
	ctx := context.Background()
	db := openEmpty(t)
	err := db.Update(ctx, func(w store.Writer) error {
		for i := range n {
			group := "even"
			if i%2 == 1 {
				group = "odd"
			}
			rec := store.Record{Kind: "thing", ID: fmt.Sprintf("t%04d", i), Doc: []byte(`{}`), Keys: store.Keys{group}}
			if _, err := w.Put(ctx, rec); err != nil {
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

func TestPageTokens(t *testing.T) {
	t.Run("a token decodes to the cursor it was made from", func(t *testing.T) {
		for _, cursor := range []string{"", "abc", "odd\x00t0001", "ünïcode/ids"} {
			got, err := store.DecodePageToken(store.EncodePageToken(cursor))
			if err != nil || got != cursor {
				t.Errorf("round trip of %q = %q, %v", cursor, got, err)
			}
		}
	})
	t.Run("a token this API did not make is refused", func(t *testing.T) {
		for _, tok := range []string{"not base64!", string(make([]byte, 2000))} {
			if _, err := store.DecodePageToken(tok); err != store.ErrBadPageToken {
				t.Errorf("DecodePageToken(%.10q) = %v, want ErrBadPageToken", tok, err)
			}
		}
	})
}

func TestFindPageAndWalk(t *testing.T) {
	ctx := context.Background()
	db := openWithRecords(t, 1203)

	t.Run("pages by a secondary key cover every record once, then end", func(t *testing.T) {
		seen := map[string]bool{}
		token, pages := "", 0
		for {
			cursor, err := store.DecodePageToken(token)
			if err != nil {
				t.Fatal(err)
			}
			var items []store.Item
			err = db.View(ctx, func(r store.Reader) error {
				var err error
				items, token, err = store.FindPage(ctx, r, store.Query{Kind: "thing", Key: 1, Value: "odd", After: cursor}, 100)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, it := range items {
				if seen[it.ID] {
					t.Fatalf("%s listed twice", it.ID)
				}
				seen[it.ID] = true
			}
			if token == "" {
				break
			}
		}
		if len(seen) != 601 || pages != 7 {
			t.Fatalf("listed %d odd records in %d pages, want 601 in 7", len(seen), pages)
		}
	})

	t.Run("walk visits every record in order across batches", func(t *testing.T) {
		var ids []string
		err := db.View(ctx, func(r store.Reader) error {
			return store.Walk(ctx, r, store.Query{Kind: "thing", Prefix: true}, func(it store.Item) error {
				ids = append(ids, it.ID)
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 1203 || ids[0] != "t0000" || ids[1202] != "t1202" {
			t.Fatalf("walked %d records (%v … %v)", len(ids), ids[0], ids[len(ids)-1])
		}
	})

	t.Run("walk stops at the first error the visitor returns", func(t *testing.T) {
		stop := fmt.Errorf("enough")
		visited := 0
		err := db.View(ctx, func(r store.Reader) error {
			return store.Walk(ctx, r, store.Query{Kind: "thing", Prefix: true}, func(store.Item) error {
				visited++
				if visited == 3 {
					return stop
				}
				return nil
			})
		})
		if err != stop || visited != 3 {
			t.Fatalf("err %v after %d visits, want the visitor's error after 3", err, visited)
		}
	})
}

func TestFilterPage(t *testing.T) {
	ctx := context.Background()
	db := openEmpty(t)
	err := db.Update(ctx, func(w store.Writer) error {
		for i := range 30 {
			rec := store.Record{Kind: "thing", ID: fmt.Sprintf("t%04d", i), Doc: []byte(fmt.Sprintf(`{"n":%d}`, i))}
			if _, err := w.Put(ctx, rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	type doc struct{ N int }
	list := func(t *testing.T, limit int, keep func(*doc) bool) [][]int {
		t.Helper()
		var pages [][]int
		token := ""
		for {
			cursor, err := store.DecodePageToken(token)
			if err != nil {
				t.Fatal(err)
			}
			var page []doc
			err = db.View(ctx, func(r store.Reader) error {
				var err error
				page, token, err = store.FilterPage(ctx, r, store.Query{Kind: "thing", Prefix: true, After: cursor}, limit, keep)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var ns []int
			for _, d := range page {
				ns = append(ns, d.N)
			}
			pages = append(pages, ns)
			if token == "" || len(pages) > 30 {
				return pages
			}
		}
	}

	t.Run("pages hold only accepted documents, as keep adjusted them", func(t *testing.T) {
		pages := list(t, 4, func(d *doc) bool { d.N *= 10; return d.N%30 == 0 })
		if got := fmt.Sprint(pages); got != "[[0 30 60 90] [120 150 180 210] [240 270]]" {
			t.Fatalf("pages %s", got)
		}
	})
	t.Run("FindAll decodes every document after q.After", func(t *testing.T) {
		var docs []doc
		err := db.View(ctx, func(r store.Reader) error {
			var err error
			docs, err = store.FindAll[doc](ctx, r, store.Query{Kind: "thing", Prefix: true, After: "t0004"})
			return err
		})
		if err != nil || len(docs) != 25 || docs[0].N != 5 || docs[24].N != 29 {
			t.Fatalf("FindAll = %d documents (%v), %v; want 5 to 29", len(docs), docs, err)
		}
	})
	t.Run("a full last page has no token when no accepted document follows", func(t *testing.T) {
		pages := list(t, 13, func(d *doc) bool { return d.N <= 12 })
		if len(pages) != 1 || len(pages[0]) != 13 {
			t.Fatalf("pages %v, want one page of 13", pages)
		}
	})
}
