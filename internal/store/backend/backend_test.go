package backend_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/backend"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
)

func TestParse(t *testing.T) {
	tests := []struct {
		url, kind, target, err string
	}{
		{url: "", kind: "sqlite", target: "data/muster.db"},
		{url: "/var/lib/muster/m.db", kind: "sqlite", target: "/var/lib/muster/m.db"},
		{url: "sqlite:///var/lib/muster/m.db", kind: "sqlite", target: "/var/lib/muster/m.db"},
		{url: "postgres://u:p@db:5432/muster", kind: "postgres", target: "postgres://u:p@db:5432/muster"},
		{url: "postgresql://db/muster?sslmode=disable", kind: "postgres", target: "postgresql://db/muster?sslmode=disable"},
		{url: "sqlite://", err: "needs a file path"},
		{url: "mysql://db/muster", err: `unknown scheme "mysql"`},
	}
	for _, tc := range tests {
		kind, target, err := backend.Parse(tc.url, "data")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) = %v, want an error containing %q", tc.url, err, tc.err)
			}
			continue
		}
		if err != nil || string(kind) != tc.kind || target != tc.target {
			t.Errorf("Parse(%q) = %s %q %v, want %s %q", tc.url, kind, target, err, tc.kind, tc.target)
		}
	}
}

func TestDescribeHidesThePassword(t *testing.T) {
	got := backend.Describe("postgres://muster:hunter2@db:5432/muster", "")
	if strings.Contains(got, "hunter2") || !strings.Contains(got, "db:5432") {
		t.Fatalf("Describe = %q", got)
	}
}

func TestOneServerPerSQLiteFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, err := backend.Open(ctx, backend.Config{DataDir: dir, Server: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a second server on the same file is refused, naming the way out", func(t *testing.T) {
		_, err := backend.Open(ctx, backend.Config{URL: filepath.Join(dir, "muster.db"), Server: true})
		if err == nil || !strings.Contains(err.Error(), "in use by another muster serve") || !strings.Contains(err.Error(), "postgres://") {
			t.Fatalf("second server: %v", err)
		}
	})
	t.Run("a short-lived command may open the file beside the server", func(t *testing.T) {
		s, err := backend.Open(ctx, backend.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	})
	t.Run("the file is free again once the server closes", func(t *testing.T) {
		first.Close()
		again, err := backend.Open(ctx, backend.Config{DataDir: dir, Server: true})
		if err != nil {
			t.Fatal(err)
		}
		again.Close()
	})
}

func TestOpenPostgres(t *testing.T) {
	ctx := context.Background()
	s, err := backend.Open(ctx, backend.Config{URL: pgtest.NewDatabase(t), Server: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Update(ctx, func(w store.Writer) error {
		_, err := w.Put(ctx, store.Record{Kind: "k", ID: "a", Doc: []byte(`{}`)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(ctx); err != nil {
		t.Fatal(err)
	}
}
