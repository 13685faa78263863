package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/musterhq/muster/internal/store"
)

// writeFailures are the I/O errors of writing the database, its WAL or its
// shared index: what a disk that filled up produces (the VFS reports
// ENOSPC as SQLITE_FULL only from some writes; a WAL append that finds no
// room is an IOERR_WRITE).
var writeFailures = []sqlite3.ExtendedErrorCode{
	sqlite3.IOERR_WRITE, sqlite3.IOERR_FSYNC, sqlite3.IOERR_DIR_FSYNC,
	sqlite3.IOERR_TRUNCATE, sqlite3.IOERR_SHMSIZE, sqlite3.IOERR_SHMMAP,
}

// storageError wraps err with store.ErrStorageFull when SQLite could not
// write for want of room — SQLITE_FULL, or a write that failed on a disk
// with no space left — and with store.ErrStorageFailed when a write failed
// on a disk that has room. Any other error comes back as it was.
func (db *DB) storageError(err error) error {
	if err == nil || errors.Is(err, store.ErrStorageFull) || errors.Is(err, store.ErrStorageFailed) {
		return err
	}
	if errors.Is(err, sqlite3.FULL) {
		return fmt.Errorf("%w: %w", store.ErrStorageFull, err)
	}
	for _, c := range writeFailures {
		if errors.Is(err, c) {
			if diskFull(filepath.Dir(db.cfg.Path)) {
				return fmt.Errorf("%w: %w", store.ErrStorageFull, err)
			}
			return fmt.Errorf("%w: %w", store.ErrStorageFailed, err)
		}
	}
	return err
}

// SetMaxPages caps the database at n pages (PRAGMA max_page_count on the
// writing connection) and returns the cap now in force, which SQLite never
// sets below the database's current size. A write that would grow the
// database past it fails with store.ErrStorageFull, exactly as when the
// disk fills up; tests use it to fill the disk without a file system of
// their own. n = 0 only reads the cap.
func (db *DB) SetMaxPages(ctx context.Context, n int64) (int64, error) {
	q := "PRAGMA max_page_count"
	if n > 0 {
		q += fmt.Sprintf(" = %d", n)
	}
	var got int64
	err := db.Update(ctx, func(w store.Writer) error {
		return w.(*txWriter).q.QueryRowContext(ctx, q).Scan(&got)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: max_page_count: %w", err)
	}
	return got, nil
}

// PageCount is the database's size in pages.
func (db *DB) PageCount(ctx context.Context) (int64, error) {
	var n int64
	if err := db.reader.QueryRowContext(ctx, "PRAGMA page_count").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: page_count: %w", err)
	}
	return n, nil
}

// IntegrityCheck runs PRAGMA integrity_check and returns its report: "ok"
// for an intact database.
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	rows, err := db.reader.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return "", fmt.Errorf("sqlite: integrity_check: %w", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return "", fmt.Errorf("sqlite: integrity_check: %w", err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("sqlite: integrity_check: %w", err)
	}
	return strings.Join(lines, "\n"), nil
}
