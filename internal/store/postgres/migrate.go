package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/musterhq/muster/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// embeddedMigrations is the schema changes this binary carries.
func embeddedMigrations() ([]sqlstore.Migration, error) {
	return dialect.Migrations(migrationFiles, "migrations")
}

// migrate applies every embedded migration not yet recorded, each in its
// own transaction together with its row in schema_migrations. A session
// advisory lock makes replicas that start together take turns, so each
// migration is applied once. Migrations are additive first and remove a
// release later, so a replica one version behind keeps working on the
// newer schema; a schema newer than anything this binary carries is
// refused, since it may have removed what this version still uses.
func (db *DB) migrate(ctx context.Context) error {
	migrations, err := embeddedMigrations()
	if err != nil {
		return err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("postgres: migrations lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", migrateLockKey)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrations table: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("postgres: read migrations: %w", err)
	}
	newest := 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("postgres: read migrations: %w", err)
		}
		applied[v] = true
		newest = max(newest, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: read migrations: %w", err)
	}
	if known := migrations[len(migrations)-1].Version; newest > known {
		return fmt.Errorf("postgres: the database's schema is at migration %d, newer than this binary knows (%d): run a newer muster", newest, known)
	}
	for _, m := range migrations {
		if applied[m.Version] {
			continue
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, m.Body); err != nil {
			tx.Rollback(ctx)
			return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
			m.Version, m.Name, db.clock.Now().UnixMilli()); err != nil {
			tx.Rollback(ctx)
			return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
		db.log.Info("applied migration", "migration", m.Name)
	}
	return nil
}

// MigrationCount reports how many migrations are recorded as applied.
func (db *DB) MigrationCount(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n)
	return n, err
}

// EmbeddedMigrations reports how many migrations the binary carries.
func EmbeddedMigrations() int {
	m, _ := embeddedMigrations()
	return len(m)
}
