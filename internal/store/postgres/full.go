package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/musterhq/muster/internal/store"
)

// diskFull is PostgreSQL's SQLSTATE for a write refused because the
// server's disk is full (class 53, insufficient resources).
const diskFull = "53100"

// storageError wraps err with store.ErrStorageFull when PostgreSQL refused
// a write for want of disk, so that the APIs answer 503 and the caller may
// retry once room returns, exactly as with the embedded store. Any other
// error comes back as it was.
func storageError(err error) error {
	if err == nil || errors.Is(err, store.ErrStorageFull) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == diskFull {
		return fmt.Errorf("%w: %w", store.ErrStorageFull, err)
	}
	return err
}
