package backend_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/backend"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
)

func dump(t *testing.T, s store.Store) ([]store.Item, []store.Event) {
	t.Helper()
	ctx := context.Background()
	var items []store.Item
	if err := s.(store.Dumper).DumpRecords(ctx, func(it store.Item) error { items = append(items, it); return nil }); err != nil {
		t.Fatal(err)
	}
	var evs []store.Event
	err := s.View(ctx, func(r store.Reader) error {
		var err error
		evs, err = r.Events(ctx, store.EventQuery{Limit: 10000})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range items { // times compare as instants, not as Location-bearing values
		items[i].ExpiresAt = items[i].ExpiresAt.UTC()
	}
	for i := range evs {
		evs[i].Time = evs[i].Time.UTC()
	}
	return items, evs
}

func TestCopySQLiteToPostgresAndBack(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	src, err := backend.Open(ctx, backend.Config{URL: filepath.Join(t.TempDir(), "src.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	err = src.Update(ctx, func(w store.Writer) error {
		for i := range 2500 {
			rec := store.Record{Kind: fmt.Sprintf("kind%d", i%3), ID: fmt.Sprintf("id%05d", i), Doc: []byte(fmt.Sprintf(`{"n":%d}`, i)), Keys: store.Keys{"a", "", fmt.Sprint(i % 7)}}
			if i%10 == 0 {
				rec.ExpiresAt = clk.Now().Add(time.Hour)
			}
			if _, err := w.Put(ctx, rec); err != nil {
				return err
			}
			if i%2 == 0 {
				// Targets recorded, recorded as none, and not recorded.
				target := []*string{new("arn:aws:sns:mu-local-1:000000000000:t" + fmt.Sprint(i)), new(""), nil}[i%3]
				if err := w.Append(ctx, store.Event{Type: "Made", Resource: rec.ID, Doc: rec.Doc, Target: target}); err != nil {
					return err
				}
			}
		}
		_, err := w.Put(ctx, store.Record{Kind: "kind0", ID: "id00000", Doc: []byte(`{"n":"again"}`), Version: 1})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pg, err := backend.Open(ctx, backend.Config{URL: pgtest.NewDatabase(t), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	stats, err := backend.Copy(ctx, src, pg)
	if err != nil || stats.Records != 2500 || stats.Events != 1250 {
		t.Fatalf("Copy = %+v, %v; want 2500 records and 1250 events", stats, err)
	}
	back, err := backend.Open(ctx, backend.Config{URL: filepath.Join(t.TempDir(), "back.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if _, err := backend.Copy(ctx, pg, back); err != nil {
		t.Fatal(err)
	}
	wantItems, wantEvents := dump(t, src)
	for name, s := range map[string]store.Store{"postgres": pg, "sqlite again": back} {
		items, evs := dump(t, s)
		if !reflect.DeepEqual(items, wantItems) || !reflect.DeepEqual(evs, wantEvents) {
			t.Errorf("%s holds %d records and %d events unlike the source's", name, len(items), len(evs))
		}
	}

	t.Run("new events follow the copied ones", func(t *testing.T) {
		err := pg.Update(ctx, func(w store.Writer) error { return w.Append(ctx, store.Event{Type: "After", Resource: "r"}) })
		if err != nil {
			t.Fatal(err)
		}
		_, evs := dump(t, pg)
		if last := evs[len(evs)-1]; last.Type != "After" || last.Seq <= wantEvents[len(wantEvents)-1].Seq {
			t.Fatalf("the new event is %+v after seq %d", last, wantEvents[len(wantEvents)-1].Seq)
		}
	})
	t.Run("a store that is not empty is refused as the target", func(t *testing.T) {
		if _, err := backend.Copy(ctx, src, pg); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("Copy into a used store = %v", err)
		}
	})
}
