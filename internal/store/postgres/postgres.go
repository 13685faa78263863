package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

// Advisory lock keys. They only have to differ from whatever else shares
// the database; both spell "muster" with a suffix.
const (
	writeLockKey   int64 = 0x6d7573746572_01
	migrateLockKey int64 = 0x6d7573746572_02
)

// Config configures Open.
type Config struct {
	// URL is the connection string, postgres://user:pass@host:port/db?….
	URL    string
	Clock  clock.Clock
	Logger *slog.Logger
	// MaxBatch caps how many waiting transactions share one commit (default
	// 64: PostgreSQL keeps up to 64 subtransactions of a transaction in
	// shared memory, and a batch is one savepoint each).
	MaxBatch int
	// SweepInterval is how often expired records are deleted (default 1 min).
	SweepInterval time.Duration
	// CommitTimeout bounds one batch's transaction, from BEGIN to COMMIT
	// (default 15 s). Its round trips run under this bound alone
	// (pipeline), so a database that stops answering (a partition, a
	// server that hangs) fails the batch instead of holding this
	// replica's writer for as long as TCP takes to give up. A peer paused
	// inside its transaction holds the write lock far less long: no more
	// than idle_in_transaction_session_timeout (Open).
	CommitTimeout time.Duration
}

// DB is the PostgreSQL store. It implements store.Store, and
// store.Admitter through its GroupCommit.
type DB struct {
	cfg   Config
	pool  *pgxpool.Pool
	log   *slog.Logger
	clock clock.Clock

	// GroupCommit folds this replica's waiting transactions into one
	// commit, and sweeps expired records.
	*store.GroupCommit

	// eventsCommitted fires after each commit that appended events.
	eventsCommitted store.Signal
}

var _ store.Store = (*DB)(nil)

// idleInTxTimeout is the PostgreSQL setting that ends a session idle in a
// transaction for too long.
const idleInTxTimeout = "idle_in_transaction_session_timeout"

// Open connects to the database at cfg.URL, applies pending migrations and
// starts the writer.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 64
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = time.Minute
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = 15 * time.Second
	}
	poolCfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// A replica paused in the middle of a transaction (a long GC,
	// SIGSTOP, a partition) must not hold its row locks for ever: the
	// others, which take over its leases within seconds, would wait on
	// them. The server ends such a session after 2 s idle in a
	// transaction, unless the URL chooses otherwise.
	if _, ok := poolCfg.ConnConfig.RuntimeParams[idleInTxTimeout]; !ok {
		poolCfg.ConnConfig.RuntimeParams[idleInTxTimeout] = "2000"
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", poolCfg.ConnConfig.Host, err)
	}
	db := &DB{cfg: cfg, pool: pool, log: cfg.Logger, clock: cfg.Clock}
	if err := db.checkEncoding(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	db.GroupCommit = store.NewGroupCommit(store.GroupCommitConfig{MaxBatch: cfg.MaxBatch, Clock: cfg.Clock, Commit: db.commit,
		Sweep: db.sweep, SweepInterval: cfg.SweepInterval, Logger: cfg.Logger})
	return db, nil
}

// checkEncoding refuses a database that does not store UTF-8: record ids,
// keys and the prefix ranges Find builds are UTF-8 strings.
func (db *DB) checkEncoding(ctx context.Context) error {
	var enc string
	if err := db.pool.QueryRow(ctx, "SHOW server_encoding").Scan(&enc); err != nil {
		return fmt.Errorf("postgres: read server_encoding: %w", err)
	}
	if enc != "UTF8" {
		return fmt.Errorf("postgres: the database's encoding is %s; Muster needs UTF8 (CREATE DATABASE … ENCODING 'UTF8')", enc)
	}
	return nil
}

// Ready reports whether the database answers and migrations are done.
func (db *DB) Ready(ctx context.Context) error {
	if db.Closed() {
		return store.ErrClosed
	}
	var n int
	return db.pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n)
}

// Close stops accepting writes, commits those already queued and closes
// the pool.
func (db *DB) Close() error {
	if db.GroupCommit.Close() {
		db.pool.Close()
	}
	return nil
}

// View runs fn against committed state, one statement at a time (see
// store.Store.View).
func (db *DB) View(ctx context.Context, fn func(store.Reader) error) error {
	return fn(&reader{q: db.pool, now: db.clock.Now})
}

// EventsCommitted returns a channel closed after the next commit that
// appends events (store.EventNotifier).
func (db *DB) EventsCommitted() <-chan struct{} { return db.eventsCommitted.Wait() }

// Update queues fn for this replica's writer and waits until its
// transaction commits (store.GroupCommit).
func (db *DB) Update(ctx context.Context, fn func(store.Writer) error) error {
	return storageError(db.GroupCommit.Update(ctx, fn))
}

// commit runs a batch of transaction functions in one database transaction
// that holds the store's write lock, each function in a savepoint of its
// own so that one failing function rolls back only its own writes. A batch
// of one needs no savepoint: its failure rolls back the transaction.
func (db *DB) commit(batch []*store.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), db.cfg.CommitTimeout)
	defer cancel()
	results := make([]error, len(batch))
	hooks := make([][]func(), len(batch))
	fail := func(err error) {
		for _, r := range batch {
			r.Finish(err, nil)
		}
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		fail(fmt.Errorf("postgres: begin: %w", err))
		return
	}
	defer tx.Rollback(ctx) // a no-op after Commit
	p := &pipeline{ctx: ctx, tx: tx}
	p.holdForAll("take the write lock", "SELECT pg_advisory_xact_lock($1)", writeLockKey)
	w := &writer{reader: reader{q: p, now: db.clock.Now}, tx: p}
	if len(batch) == 1 {
		if hooks[0], results[0] = runOne(batch[0], w); results[0] == nil {
			results[0] = p.flush()
		}
		if results[0] == nil {
			results[0] = p.broken
		}
		if results[0] != nil {
			fail(results[0])
			return
		}
	} else if err := runInSavepoints(ctx, batch, w, results, hooks); err != nil {
		fail(err)
		return
	}
	err = tx.Commit(ctx)
	if err != nil {
		err = fmt.Errorf("postgres: commit: %w", err)
	} else if w.appended {
		db.eventsCommitted.Fire()
	}
	store.Settle(batch, results, hooks, err)
}

// runOne runs one transaction function and returns its after-commit hooks
// and its error.
func runOne(req *store.Request, w *writer) ([]func(), error) {
	if err := req.Ctx.Err(); err != nil {
		return nil, err
	}
	w.hooks = nil
	if err := req.Run(w); err != nil {
		return nil, err
	}
	return w.hooks, nil
}

// releaseSavepoint ends the savepoint each function of a batch runs in.
const releaseSavepoint = "RELEASE SAVEPOINT w"

// runInSavepoints runs each function of a batch in a savepoint of its own,
// filling in its result and hooks. It fails only when the transaction
// itself can no longer be used.
//
// The savepoint's statements ride in the pipeline: SAVEPOINT goes out
// with the function's first statement, and a RELEASE with the next
// function's. A function whose held appends are still unsent when it
// returns sends them with its RELEASE at once, so that an append's
// failure is its own.
func runInSavepoints(ctx context.Context, batch []*store.Request, w *writer, results []error, hooks [][]func()) error {
	p := w.tx
	for i, req := range batch {
		if err := req.Ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		before, rounds := len(p.held), p.rounds
		p.hold("savepoint", "SAVEPOINT w")
		hooks[i], results[i] = runOne(req, w)
		if p.broken != nil {
			return p.broken
		}
		switch {
		case p.rounds == rounds && (results[i] != nil || len(p.held) == before+1):
			// Nothing of the function reached the server, and nothing
			// of it needs to: there is no savepoint to end.
			p.forget(before)
			continue
		case results[i] == nil && len(p.held) == 0:
			// All of it went out: the release waits for the next trip,
			// where it is the transaction's statement, not the next
			// function's.
			p.holdForAll("release savepoint", releaseSavepoint)
			continue
		case results[i] == nil:
			// Appends of its own are unsent: send them now, so that a
			// failure among them is this function's.
			p.hold("release savepoint", releaseSavepoint)
			if results[i] = p.flush(); results[i] == nil {
				continue
			}
			if p.broken != nil {
				return p.broken
			}
		}
		// The function failed, or its appends did. Its writes are undone
		// at once, in the simple protocol: the transaction may be aborted,
		// and there PostgreSQL parses only a rollback, so a pipeline that
		// prepared it with others would leave pgx's statement cache
		// disagreeing with the server.
		p.forget(0) // the failed function's unsent appends
		w.forgetReads()
		if _, err := p.tx.Exec(ctx, "ROLLBACK TO SAVEPOINT w; "+releaseSavepoint, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("postgres: roll back savepoint: %w", err)
		}
	}
	// COMMIT releases what is still open.
	if len(p.held) == 1 && p.held[0].sql == releaseSavepoint {
		p.forget(0)
	}
	return p.flush()
}

// sweep deletes records whose expiry has passed. They are already invisible
// to readers; this only reclaims space. It runs outside the write lock:
// deleting an expired record changes nothing a writer can see.
func (db *DB) sweep(ctx context.Context) (int64, error) {
	tag, err := db.pool.Exec(ctx, "DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= $1", db.clock.Now().UnixMilli())
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// txQuerier is what both the pool and a transaction offer.
type txQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
