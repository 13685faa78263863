package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"runtime"
	"time"

	_ "github.com/ncruces/go-sqlite3/driver" // registers "sqlite3"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Config configures Open.
type Config struct {
	// Path is the database file.
	Path   string
	Clock  clock.Clock
	Logger *slog.Logger
	// MaxBatch caps how many waiting transactions share one commit (default 256).
	MaxBatch int
	// SweepInterval is how often expired records are deleted (default 1 min).
	SweepInterval time.Duration
	// RecentBytes bounds the memory that keeps recently written records
	// for point reads (default 8 MiB; see recentRecords).
	RecentBytes int
	// RecentEventBytes bounds the memory that keeps the latest committed
	// events for the outbox's followers (default 1 MiB; see recentEvents).
	RecentEventBytes int
}

// DB is the SQLite store. It implements store.Store, and store.Admitter
// through its GroupCommit.
type DB struct {
	cfg    Config
	writer *sql.DB
	reader *sql.DB
	// Prepared statements, per pool.
	writeStmts, readStmts *stmtCache
	log                   *slog.Logger
	clock                 clock.Clock

	// GroupCommit is the single writer: SQLite takes one writing
	// transaction at a time, and group commit makes each fsync serve many
	// writers. It also sweeps expired records.
	*store.GroupCommit

	// eventsCommitted fires after each commit that appended events.
	eventsCommitted store.Signal

	recent       *recentRecords
	recentEvents *recentEvents
	// dataVersion is the writer connection's last PRAGMA data_version: it
	// changes when another connection commits (see recentRecords).
	dataVersion      int64
	dataVersionKnown bool
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database at cfg.Path, applies pending
// migrations and starts the writer.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = time.Minute
	}
	if cfg.RecentBytes <= 0 {
		cfg.RecentBytes = defaultRecentBytes
	}
	if cfg.RecentEventBytes <= 0 {
		cfg.RecentEventBytes = defaultRecentEventBytes
	}
	// busy_timeout first: giving any _pragma drops the driver's own default.
	// temp_store(memory) keeps the statement journals of the savepoints
	// group commit runs each transaction in off the disk: they only ever
	// serve a rollback within the open transaction, and written to a file
	// they cost a write system call per page a savepoint first touches.
	dsn := "file:" + (&url.URL{Path: cfg.Path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=synchronous(full)&_pragma=foreign_keys(1)&_pragma=temp_store(memory)"
	// The page caches keep SQLite's default size (2 MB), measured with
	// BenchmarkTicketLifecycle: at the end of every transaction SQLite
	// walks the writer's cache, so 16 MiB cost 4 % and 64 MiB 8 % of the
	// store's CPU, more than the page reads they saved (1-2 %); and a
	// reader drops its whole cache whenever another connection has
	// written since its last read, which under load is always.
	writer, err := sql.Open("sqlite3", dsn+"&_txlock=immediate&vfs="+walBufferVFS)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	db := &DB{cfg: cfg, writer: writer, log: cfg.Logger, clock: cfg.Clock, recent: newRecentRecords(cfg.RecentBytes),
		recentEvents: newRecentEvents(cfg.RecentEventBytes)}

	var mode string
	if err := writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}
	if mode != "wal" {
		writer.Close()
		return nil, fmt.Errorf("sqlite: journal_mode is %q, want wal (is %s on a filesystem that supports it?)", mode, cfg.Path)
	}
	if err := db.migrate(ctx); err != nil {
		writer.Close()
		return nil, err
	}
	reader, err := sql.Open("sqlite3", dsn+"&mode=ro")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0)*2)
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	db.reader = reader
	db.readStmts, db.writeStmts = newStmtCache(reader), newStmtCache(writer)

	db.GroupCommit = store.NewGroupCommit(store.GroupCommitConfig{MaxBatch: cfg.MaxBatch, Clock: cfg.Clock, Commit: db.commit,
		Sweep: db.sweep, SweepInterval: cfg.SweepInterval, Logger: cfg.Logger})
	return db, nil
}

// migrate applies every embedded migration not yet recorded, each in its
// own transaction together with its record in schema_migrations.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.writer.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	migrations, err := dialect.Migrations(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	for _, m := range migrations {
		var applied int
		if err := db.writer.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&applied); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		if applied > 0 {
			continue
		}
		tx, err := db.writer.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, m.Body); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, db.clock.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		db.log.Info("applied migration", "migration", m.Name)
	}
	return nil
}

// Ready reports whether the database answers and migrations are done.
func (db *DB) Ready(ctx context.Context) error {
	if db.Closed() {
		return store.ErrClosed
	}
	var n int
	return db.reader.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n)
}

// Close stops accepting writes, commits those already queued, checkpoints
// the WAL and closes the file.
func (db *DB) Close() error {
	if !db.GroupCommit.Close() {
		return nil
	}
	var errs []error
	if _, err := db.writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		errs = append(errs, fmt.Errorf("sqlite: checkpoint: %w", err))
	}
	db.readStmts.close()
	db.writeStmts.close()
	errs = append(errs, db.reader.Close(), db.writer.Close())
	return errors.Join(errs...)
}

// View runs fn against committed state. Each read sees a consistent
// snapshot of its own; reads in one View may see a commit that landed
// between them (see store.Store.View).
func (db *DB) View(ctx context.Context, fn func(store.Reader) error) error {
	return fn(&txReader{q: poolQuerier{db: db.reader, cache: db.readStmts}, now: db.clock.Now, recent: db.recent})
}

// EventsCommitted returns a channel closed after the next commit that
// appends events (store.EventNotifier).
func (db *DB) EventsCommitted() <-chan struct{} { return db.eventsCommitted.Wait() }

// RecentEvents answers from the events of the latest commits
// (store.RecentEventReader; see recentEvents).
func (db *DB) RecentEvents(after int64, limit int) ([]store.Event, bool) {
	return db.recentEvents.after(after, limit)
}

// commit runs a batch of transactions as savepoints of one SQLite
// transaction, so one failing fn rolls back only its own writes.
func (db *DB) commit(batch []*store.Request) {
	for len(batch) > 0 {
		batch = db.commitSome(batch)
	}
}

// commitSome runs batch in one transaction and answers each request. When
// SQLite rolls the whole transaction back under one of them — as it may on
// a full disk or an I/O error, leaving no savepoint to return to — it
// answers the requests run so far with that error (none of their writes
// is kept), and returns those not yet run, for a transaction of their own.
func (db *DB) commitSome(batch []*store.Request) (rest []*store.Request) {
	ctx := context.Background()
	results := make([]error, len(batch))
	hooks := make([][]func(), len(batch))
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		err = db.storageError(fmt.Errorf("sqlite: begin: %w", err))
		for _, r := range batch {
			r.Finish(err, nil)
		}
		return nil
	}
	w := &txWriter{tx: tx, recent: db.recent, req: writeSet{}, txn: writeSet{}}
	w.txReader = txReader{q: stmtQuerier{ctx: ctx, tx: tx, cache: db.writeStmts, broken: &w.broken}, now: db.clock.Now}
	db.checkDataVersion(ctx, w)
	for i, req := range batch {
		if err := req.Ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		lost, err := db.run(ctx, tx, w, req, len(batch) > 1)
		if lost {
			tx.Rollback() // gone already, or given up: nothing of it may commit
			for j := range i {
				if results[j] == nil {
					results[j] = fmt.Errorf("sqlite: the transaction this write shared was rolled back: %w", err)
				}
			}
			results[i] = err
			store.Settle(batch[:i+1], results, nil, nil)
			return batch[i+1:]
		}
		results[i] = err
		if err == nil {
			hooks[i] = w.hooks
		}
	}
	db.recent.forget(w.txn)
	err = tx.Commit()
	db.recent.committed(w.txn, err == nil)
	if err != nil {
		err = db.storageError(fmt.Errorf("sqlite: commit: %w", err))
	} else {
		if w.eventsUnknown {
			db.recentEvents.clear()
		} else {
			db.recentEvents.committed(w.txnEvents)
		}
		if w.appended {
			db.eventsCommitted.Fire()
		}
	}
	store.Settle(batch, results, hooks, err)
	return nil
}

// run runs one request in a savepoint of tx. lost reports that the
// transaction is gone (or in a state that cannot be trusted): SQLite
// rolled it back whole, so the savepoint could not be rolled back to. A
// request alone in its batch needs no savepoint (two statements fewer): its
// failure rolls the transaction back, reported as lost.
func (db *DB) run(ctx context.Context, tx *sql.Tx, w *txWriter, req *store.Request, savepoint bool) (lost bool, err error) {
	if savepoint {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			return true, db.storageError(fmt.Errorf("sqlite: savepoint: %w", err))
		}
	}
	w.hooks, w.broken = nil, nil
	clear(w.req)
	w.reqEvents = w.reqEvents[:0]
	defer func() {
		if !lost && err == nil {
			maps.Copy(w.txn, w.req)
			w.txnEvents = append(w.txnEvents, w.reqEvents...)
		}
	}()
	err = req.Run(w)
	if err == nil && w.broken != nil {
		err = w.broken // fn went on after a write failed under it
	}
	if !savepoint {
		if err != nil {
			tx.Rollback()
			return true, db.storageError(err)
		}
		return false, nil
	}
	if err != nil {
		if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO w"); rbErr != nil {
			return true, db.storageError(err)
		}
	}
	if _, relErr := tx.ExecContext(ctx, "RELEASE w"); relErr != nil {
		return true, db.storageError(errors.Join(err, fmt.Errorf("sqlite: release savepoint: %w", relErr)))
	}
	return false, db.storageError(err)
}

// checkDataVersion empties the recent records when another connection
// has committed since the writer's last transaction. It runs inside the
// writer's transaction, which holds the write lock: no other commit can
// land before this one ends.
func (db *DB) checkDataVersion(ctx context.Context, w *txWriter) {
	var v int64
	if err := w.q.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		db.recent.clear()
		db.recentEvents.clear()
		db.dataVersionKnown = false
		return
	}
	changed := !db.dataVersionKnown || v != db.dataVersion
	db.recent.checkedAt(db.clock.Now(), changed)
	if changed {
		db.recentEvents.clear()
	}
	db.dataVersion, db.dataVersionKnown = v, true
}

// sweep deletes records whose expiry has passed. They are already invisible
// to readers; this only reclaims space.
func (db *DB) sweep(ctx context.Context) (int64, error) {
	var n int64
	err := db.Update(ctx, func(w store.Writer) error {
		res, err := w.(*txWriter).q.ExecContext(ctx, "DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?", db.clock.Now().UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// MigrationCount reports how many migrations are recorded as applied.
func (db *DB) MigrationCount(ctx context.Context) (int, error) {
	var n int
	err := db.reader.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n)
	return n, err
}

// EmbeddedMigrations reports how many migrations the binary carries.
func EmbeddedMigrations() int {
	m, _ := dialect.Migrations(migrationFiles, "migrations")
	return len(m)
}
