package sqlstore_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/musterhq/muster/internal/store/sqlstore"
)

func TestMigrationsAreReadInVersionOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"migrations/0002_indexes.sql": {Data: []byte("CREATE INDEX b;")},
		"migrations/0001_records.sql": {Data: []byte("CREATE TABLE a;")},
		"migrations/README.md":        {Data: []byte("not SQL")},
	}
	got, err := sqlstore.Dialect{Name: "test"}.Migrations(fsys, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	want := []sqlstore.Migration{{Version: 1, Name: "0001_records.sql", Body: "CREATE TABLE a;"}, {Version: 2, Name: "0002_indexes.sql", Body: "CREATE INDEX b;"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Migrations = %+v, want %+v", got, want)
	}
}

func TestAMigrationWithoutAVersionIsRefused(t *testing.T) {
	fsys := fstest.MapFS{"migrations/records.sql": {Data: []byte("CREATE TABLE a;")}}
	_, err := sqlstore.Dialect{Name: "test"}.Migrations(fsys, "migrations")
	if err == nil || !strings.Contains(err.Error(), "test: migration records.sql: name must start with a number and _") {
		t.Errorf("err = %v, want the file named and the rule", err)
	}
}
