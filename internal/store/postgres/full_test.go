package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/musterhq/muster/internal/store"
)

// A disk-full refusal from PostgreSQL, however deeply wrapped, is
// store.ErrStorageFull; other errors, including other resource errors of
// class 53, are left as they were.
func TestADiskFullRefusalIsStorageFull(t *testing.T) {
	full := fmt.Errorf("postgres: commit: %w", &pgconn.PgError{Code: "53100", Message: "could not extend file: No space left on device"})
	if err := storageError(full); !errors.Is(err, store.ErrStorageFull) {
		t.Fatalf("disk full: got %v, want store.ErrStorageFull", err)
	}
	for _, err := range []error{
		nil,
		&pgconn.PgError{Code: "53200", Message: "out of memory"},
		&pgconn.PgError{Code: "23505", Message: "duplicate key"},
		errors.New("connection reset"),
	} {
		if got := storageError(err); got != err {
			t.Errorf("storageError(%v) = %v, want it unchanged", err, got)
		}
	}
}
