package faultstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/faultstore"
	"github.com/musterhq/muster/internal/store/sqlite"
)

func setup(t *testing.T) *faultstore.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return faultstore.New(db)
}

func write(s store.Store, id string) error {
	ctx := context.Background()
	return s.Update(ctx, func(w store.Writer) error {
		_, err := w.Put(ctx, store.Record{Kind: "k", ID: id, Doc: []byte(`{}`)})
		return err
	})
}

func exists(t *testing.T, s store.Store, id string) bool {
	t.Helper()
	ctx := context.Background()
	err := s.View(ctx, func(r store.Reader) error {
		_, err := r.Get(ctx, "k", id)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestFaults(t *testing.T) {
	t.Run("a failed commit writes nothing and only the chosen update fails", func(t *testing.T) {
		s := setup(t)
		s.FailNext(2, nil)
		if err := write(s, "one"); err != nil {
			t.Fatal(err)
		}
		if err := write(s, "two"); !errors.Is(err, faultstore.ErrInjected) {
			t.Fatalf("second update: %v, want ErrInjected", err)
		}
		if err := write(s, "three"); err != nil {
			t.Fatal(err)
		}
		if !exists(t, s, "one") || exists(t, s, "two") || !exists(t, s, "three") {
			t.Fatal("want one and three written, two not")
		}
	})
	t.Run("a connection lost after commit reports an error though the write landed", func(t *testing.T) {
		s := setup(t)
		s.LoseNext(1)
		if err := write(s, "x"); !errors.Is(err, faultstore.ErrConnectionLost) {
			t.Fatalf("update: %v, want ErrConnectionLost", err)
		}
		if !exists(t, s, "x") {
			t.Fatal("the write did not land")
		}
	})
	t.Run("a held commit waits for release while other updates go on", func(t *testing.T) {
		s := setup(t)
		reached, release := s.HoldNext(1)
		held := make(chan error)
		go func() { held <- write(s, "held") }()
		<-reached
		if err := write(s, "other"); err != nil {
			t.Fatal(err)
		}
		if exists(t, s, "held") {
			t.Fatal("the held update committed before release")
		}
		release()
		if err := <-held; err != nil || !exists(t, s, "held") {
			t.Fatalf("after release: %v", err)
		}
	})
}
