package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/postgres"
	"github.com/musterhq/muster/internal/store/sqlite"
)

// Config says which store to open.
type Config struct {
	// URL names the store: empty for <DataDir>/muster.db, a file path or
	// sqlite://path for SQLite, postgres://… or postgresql://… for
	// PostgreSQL.
	URL string
	// DataDir holds the default SQLite file.
	DataDir string
	Clock   clock.Clock
	Logger  *slog.Logger
	// Server is set by `muster serve`: a SQLite file then belongs to this
	// process alone, and a second server on it is refused (its in-memory
	// work — matchmaking pools, timers, game server connections — would run
	// twice). Short-lived commands such as `muster keys` may still open it
	// beside a running server; SQLite's own locking keeps their writes safe.
	Server bool
}

// Kind names a backend.
type Kind string

const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// Parse says which backend a URL names and returns what that backend opens:
// the file path for SQLite, the connection URL for PostgreSQL.
func Parse(rawURL, dataDir string) (Kind, string, error) {
	switch {
	case rawURL == "":
		return SQLite, filepath.Join(dataDir, "muster.db"), nil
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		if _, err := url.Parse(rawURL); err != nil {
			return "", "", fmt.Errorf("--store: %w", err)
		}
		return Postgres, rawURL, nil
	case strings.HasPrefix(rawURL, "sqlite://"):
		path := strings.TrimPrefix(rawURL, "sqlite://")
		if path == "" {
			return "", "", errors.New("--store: sqlite:// needs a file path, e.g. sqlite:///var/lib/muster/muster.db")
		}
		return SQLite, path, nil
	case strings.Contains(rawURL, "://"):
		scheme, _, _ := strings.Cut(rawURL, "://")
		return "", "", fmt.Errorf("--store: unknown scheme %q: use a file path, sqlite://PATH or postgres://…", scheme)
	default:
		return SQLite, rawURL, nil
	}
}

// Open opens the store cfg names, applying its migrations.
func Open(ctx context.Context, cfg Config) (store.Store, error) {
	kind, target, err := Parse(cfg.URL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if kind == Postgres {
		return postgres.Open(ctx, postgres.Config{URL: target, Clock: cfg.Clock, Logger: cfg.Logger})
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return nil, fmt.Errorf("store directory: %w", err)
	}
	var unlock func()
	if cfg.Server {
		unlock, err = lockFile(target + ".lock")
		if err != nil {
			return nil, err
		}
	}
	db, err := sqlite.Open(ctx, sqlite.Config{Path: target, Clock: cfg.Clock, Logger: cfg.Logger})
	if err != nil {
		if unlock != nil {
			unlock()
		}
		return nil, err
	}
	if unlock == nil {
		return db, nil
	}
	return &lockedSQLite{DB: db, unlock: unlock}, nil
}

// Describe names a store for logs, without a password.
func Describe(rawURL, dataDir string) string {
	kind, target, err := Parse(rawURL, dataDir)
	if err != nil {
		return "invalid store URL"
	}
	if kind == Postgres {
		if u, err := url.Parse(target); err == nil {
			return u.Redacted()
		}
	}
	return target
}

// lockedSQLite holds the server's lock on a SQLite file until it closes.
type lockedSQLite struct {
	*sqlite.DB
	unlock func()
}

func (l *lockedSQLite) Close() error {
	err := l.DB.Close()
	l.unlock()
	return err
}
