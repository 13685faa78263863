package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/backend"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
)

func TestStoreCopyMovesADataDirectoryToPostgres(t *testing.T) {
	dir := t.TempDir()
	table := Commands()
	if code, _, errOut := runCLI(t, table, "keys", "create", "--data-dir", dir); code != 0 {
		t.Fatalf("keys create exited %d: %s", code, errOut)
	}
	pg := pgtest.NewDatabase(t)
	code, out, errOut := runCLI(t, table, "store", "copy", "--from", filepath.Join(dir, "muster.db"), "--to", pg)
	if code != 0 || !strings.Contains(out, "copied ") {
		t.Fatalf("store copy exited %d: %s%s", code, out, errOut)
	}

	ctx := context.Background()
	s, err := backend.Open(ctx, backend.Config{URL: pg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var keys int
	err = s.View(ctx, func(r store.Reader) error {
		return store.Walk(ctx, r, store.Query{Kind: "operatorkey", Prefix: true}, func(store.Item) error { keys++; return nil })
	})
	if err != nil || keys == 0 {
		t.Fatalf("%d operator keys in the copy (%v)", keys, err)
	}

	t.Run("copying into a store that is not empty is refused", func(t *testing.T) {
		code, _, errOut := runCLI(t, table, "store", "copy", "--from", filepath.Join(dir, "muster.db"), "--to", pg)
		if code == 0 || !strings.Contains(errOut, "not empty") {
			t.Fatalf("second copy exited %d: %s", code, errOut)
		}
	})
	t.Run("both stores are required", func(t *testing.T) {
		if code, _, errOut := runCLI(t, table, "store", "copy", "--to", pg); code != ExitUsage || !strings.Contains(errOut, "--from and --to") {
			t.Fatalf("exited %d: %s", code, errOut)
		}
	})
}

// TestStoreCopyRefusesAMissingSource: a --from SQLite file that does not
// exist is refused, and nothing is created in its place (an empty copy
// would look like a successful one).
func TestStoreCopyRefusesAMissingSource(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "d5", "nosuch.db"), filepath.Join(dir, "copy2.db")
	for _, url := range []string{from, "sqlite://" + from} {
		code, out, errOut := runCLI(t, Commands(), "store", "copy", "--from", url, "--to", to)
		if code == 0 || !strings.Contains(errOut, "--from: "+from+": no such file") {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", url, code, out, errOut)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Fatalf("the refused copy left %v (%v)", entries, err)
	}
}
