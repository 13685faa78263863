package storetest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Migration is one migration file of a backend's migrations folder.
type Migration struct {
	Version int
	Name    string // the file's name, as schema_migrations records it
	Body    string
}

// MigrationsThrough reads the migrations 1 to version from the calling
// test's migrations/ folder, in order, for a test that builds a database
// as a binary of that schema left it.
func MigrationsThrough(t testing.TB, version int) []Migration {
	t.Helper()
	out := make([]Migration, 0, version)
	for v := 1; v <= version; v++ {
		names, _ := filepath.Glob(fmt.Sprintf("migrations/%04d_*.sql", v))
		if len(names) != 1 {
			t.Fatalf("migration %04d: found %v", v, names)
		}
		body, err := os.ReadFile(names[0])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Migration{Version: v, Name: filepath.Base(names[0]), Body: string(body)})
	}
	return out
}
