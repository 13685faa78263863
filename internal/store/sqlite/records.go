package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlstore"
)

// querier is what *sql.Tx offers to both readers and the writer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type txReader struct {
	q   querier
	now func() time.Time
	// recent, when set, answers point reads of recently written records
	// (readers outside the writer; see recentRecords).
	recent *recentRecords
}

// stmtQuerier runs queries as statements prepared once per pool and reused
// by each connection, because parsing SQL dominated the cost of a point
// read. A query seen for the first time runs unprepared while a background
// goroutine prepares it: preparing needs a free connection, and the caller
// already holds one (the writer pool has only one), so preparing in line
// could deadlock.
//
// Its statements run under the transaction's context (ctx), never under
// the context of the function making the call: SQLite interrupts a
// statement whose context ends, and an interrupted INSERT, UPDATE or
// DELETE rolls back the whole transaction, with it the writes of every
// other function in the batch. A function's context is looked at once,
// before it runs (commitSome); once running, it finishes.
type stmtQuerier struct {
	ctx   context.Context
	tx    *sql.Tx
	cache *stmtCache
	// broken is the error of a write after which SQLite may have rolled
	// the whole transaction back (a full disk, an I/O error): later
	// writes would run outside any transaction and commit on their own,
	// so they fail with it instead.
	broken *error
}

type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
	closed  bool
	wg      sync.WaitGroup
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the prepared statement for query, or nil after scheduling its
// preparation.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if !c.pending[query] && !c.closed {
		c.pending[query] = true
		c.wg.Go(func() {
			st, err := c.db.Prepare(query)
			c.mu.Lock()
			defer c.mu.Unlock()
			delete(c.pending, query)
			if err != nil {
				return // the unprepared path reports the error to its caller
			}
			if c.closed {
				st.Close()
				return
			}
			c.m[query] = st
		})
	}
	return nil
}

// close waits for pending preparations and closes every statement. Call it
// before closing the pool.
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	clear(c.m)
}

// poolQuerier runs each read on its own from the reader pool, outside any
// transaction: SQLite gives every statement a consistent snapshot, and a
// read-only transaction around it (BEGIN, PRAGMA query_only, ROLLBACK, each
// parsed anew by the driver) tripled the cost of a point read.
type poolQuerier struct {
	db    *sql.DB
	cache *stmtCache
}

func (q poolQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.cache.get(query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.db.QueryContext(ctx, query, args...)
}

func (q poolQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.cache.get(query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.db.QueryRowContext(ctx, query, args...)
}

func (q poolQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return nil, fmt.Errorf("sqlite: a read may not write")
}

func (q stmtQuerier) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.cache.get(query); st != nil {
		return q.tx.StmtContext(q.ctx, st).QueryContext(q.ctx, args...)
	}
	return q.tx.QueryContext(q.ctx, query, args...)
}

func (q stmtQuerier) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	if st := q.cache.get(query); st != nil {
		return q.tx.StmtContext(q.ctx, st).QueryRowContext(q.ctx, args...)
	}
	return q.tx.QueryRowContext(q.ctx, query, args...)
}

func (q stmtQuerier) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	if *q.broken != nil {
		return nil, *q.broken
	}
	var res sql.Result
	var err error
	if st := q.cache.get(query); st != nil {
		res, err = q.tx.StmtContext(q.ctx, st).ExecContext(q.ctx, args...)
	} else {
		res, err = q.tx.ExecContext(q.ctx, query, args...)
	}
	if err != nil && mayEndTransaction(err) {
		*q.broken = err
	}
	return res, err
}

// mayEndTransaction reports an error after which SQLite may have rolled
// back the whole transaction rather than the one statement.
func mayEndTransaction(err error) bool {
	return errors.Is(err, sqlite3.FULL) || errors.Is(err, sqlite3.IOERR) || errors.Is(err, sqlite3.NOMEM) || errors.Is(err, sqlite3.BUSY)
}

type txWriter struct {
	txReader
	tx    *sql.Tx
	hooks []func()
	// broken: see stmtQuerier.broken.
	broken error
	// appended is set once the transaction appends an event; a spurious
	// wake-up after a rolled-back savepoint's append is harmless.
	appended bool
	// recent is the store's cache of committed records; req holds the
	// records the running request wrote (its savepoint), txn those of the
	// requests released into the transaction. See recentRecords.
	recent   *recentRecords
	req, txn writeSet
	// reqEvents holds the events the running request appended, txnEvents
	// those of the requests released into the transaction: the commit
	// hands them to recentEvents. eventsUnknown is set when an event's
	// sequence number could not be read, and keeps the commit's events out.
	reqEvents, txnEvents []store.Event
	eventsUnknown        bool
}

// dialect is SQLite's side of the SQL both stores speak.
var dialect = sqlstore.Dialect{
	Name:  "sqlite",
	Param: func(int) string { return "?" },
	// Without statistics the planner prefers the primary key (scanning
	// every record of the kind) over a secondary key's (partial) index once
	// the expiry term is in the WHERE clause: name the index.
	From: func(key int) string {
		if key > 0 {
			return " FROM records INDEXED BY records_k" + strconv.Itoa(key)
		}
		return " FROM records"
	},
	EmptyDoc:    "x''",
	InlineLimit: true,
}

func (r *txReader) Get(ctx context.Context, kind, id string) (store.Item, error) {
	if r.recent == nil {
		return r.query(ctx, kind, id)
	}
	if it, ok := r.recent.freshGet(recordKey{kind, id}, r.now()); ok {
		return found(it, false, r.now())
	}
	epoch := r.recent.readEpoch()
	it, err := r.query(ctx, kind, id)
	if err == nil {
		kept := it
		kept.Doc = append([]byte(nil), it.Doc...)
		r.recent.addRead(kept, epoch)
	}
	return it, err
}

// found answers a point read from a cached or pending record as SQLite
// would: a deleted or expired record is not found.
func found(it store.Item, deleted bool, now time.Time) (store.Item, error) {
	if deleted || !it.ExpiresAt.IsZero() && it.ExpiresAt.UnixMilli() <= now.UnixMilli() {
		return store.Item{}, fmt.Errorf("%s %q: %w", it.Kind, it.ID, store.ErrNotFound)
	}
	return it, nil
}

// query reads one live record from SQLite.
func (r *txReader) query(ctx context.Context, kind, id string) (store.Item, error) {
	row := r.q.QueryRowContext(ctx, "SELECT "+sqlstore.ItemColumns+
		" FROM records WHERE kind = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)", kind, id, r.now().UnixMilli())
	it, err := sqlstore.ScanItem(row)
	if errors.Is(err, sql.ErrNoRows) {
		return it, fmt.Errorf("%s %q: %w", kind, id, store.ErrNotFound)
	}
	if err != nil {
		return it, fmt.Errorf("sqlite: get %s/%s: %w", kind, id, err)
	}
	return it, nil
}

func (r *txReader) Find(ctx context.Context, q store.Query) ([]store.Item, error) {
	if q.Key < 0 || q.Key > 3 {
		return nil, fmt.Errorf("sqlite: find: key %d out of range 0..3", q.Key)
	}
	query, args := dialect.Find(q, r.now().UnixMilli())
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find %s: %w", q.Kind, err)
	}
	defer rows.Close()
	out, err := sqlstore.Collect(rows, sqlstore.ScanItem)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find %s: %w", q.Kind, err)
	}
	return out, nil
}

func (r *txReader) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	query, args := dialect.Events(q)
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	defer rows.Close()
	out, err := sqlstore.Collect(rows, sqlstore.ScanEvent)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	return out, nil
}

// Get answers from the transaction's own writes, then from the recent
// records, then from SQLite; what SQLite gives it, the transaction has not
// written, so it is committed state and joins the recent records.
func (w *txWriter) Get(ctx context.Context, kind, id string) (store.Item, error) {
	k := recordKey{kind, id}
	p, ok := w.req[k]
	if !ok {
		p, ok = w.txn[k]
	}
	if ok {
		if p.deleted {
			return found(store.Item{Kind: kind, ID: id}, true, w.now())
		}
		it := p.item
		it.Doc = append([]byte(nil), it.Doc...)
		return found(it, false, w.now())
	}
	if it, ok := w.recent.get(k); ok {
		return found(it, false, w.now())
	}
	it, err := w.query(ctx, kind, id)
	if err == nil {
		kept := it
		kept.Doc = append([]byte(nil), it.Doc...)
		w.recent.add(kept)
	}
	return it, err
}

// Put writes r and notes the record as the request left it.
func (w *txWriter) Put(ctx context.Context, r store.Record) (int64, error) {
	version, err := w.put(ctx, r)
	if err != nil {
		return 0, err
	}
	it := store.Item{Kind: r.Kind, ID: r.ID, Doc: append([]byte(nil), r.Doc...), Keys: r.Keys, Version: version}
	if !r.ExpiresAt.IsZero() {
		it.ExpiresAt = time.UnixMilli(r.ExpiresAt.UnixMilli()) // as SQLite gives it back
	}
	w.req[recordKey{r.Kind, r.ID}] = pendingWrite{item: it}
	return version, nil
}

func (w *txWriter) put(ctx context.Context, r store.Record) (int64, error) {
	if r.Kind == "" || r.ID == "" {
		return 0, fmt.Errorf("sqlite: put: kind and id are required")
	}
	now := w.now().UnixMilli()
	args := []any{r.Doc, sqlstore.Key(r.Keys[0]), sqlstore.Key(r.Keys[1]), sqlstore.Key(r.Keys[2]), sqlstore.Expiry(r.ExpiresAt)}
	// The common cases take one statement: a create is an INSERT that the
	// primary key refuses if the record exists, an update an UPDATE that
	// matches only the live record at the expected version. Only when
	// those miss does Put read the record to tell a conflict from a
	// missing or expired one (the single writer makes that read current).
	switch {
	case r.Upsert:
	case r.Version == 0:
		_, err := w.q.ExecContext(ctx, "INSERT INTO records (doc, k1, k2, k3, expires_at, version, kind, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			append(args, int64(1), r.Kind, r.ID)...)
		if err == nil {
			return 1, nil
		}
		if !errors.Is(err, sqlite3.CONSTRAINT) {
			return 0, fmt.Errorf("sqlite: put %s/%s: %w", r.Kind, r.ID, err)
		}
	default:
		res, err := w.q.ExecContext(ctx, "UPDATE records SET doc = ?, k1 = ?, k2 = ?, k3 = ?, expires_at = ?, version = ? WHERE kind = ? AND id = ? AND version = ? AND (expires_at IS NULL OR expires_at > ?)",
			append(args, r.Version+1, r.Kind, r.ID, r.Version, now)...)
		if err != nil {
			return 0, fmt.Errorf("sqlite: put %s/%s: %w", r.Kind, r.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return r.Version + 1, nil
		}
	}
	// An expired record counts as absent: it may be replaced by a create.
	var current int64
	var exp sql.NullInt64
	err := w.q.QueryRowContext(ctx, "SELECT version, expires_at FROM records WHERE kind = ? AND id = ?", r.Kind, r.ID).Scan(&current, &exp)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: put %s/%s: %w", r.Kind, r.ID, err)
	}
	live := exists && (!exp.Valid || exp.Int64 > now)
	switch {
	case r.Upsert:
	case r.Version == 0 && live:
		return 0, fmt.Errorf("%s %q already exists: %w", r.Kind, r.ID, store.ErrConflict)
	case r.Version > 0 && !live:
		return 0, fmt.Errorf("%s %q: %w", r.Kind, r.ID, store.ErrNotFound)
	case r.Version > 0 && current != r.Version:
		return 0, fmt.Errorf("%s %q is at version %d, not %d: %w", r.Kind, r.ID, current, r.Version, store.ErrConflict)
	}
	next := int64(1)
	if live {
		next = current + 1
	}
	if exists {
		_, err = w.q.ExecContext(ctx, "UPDATE records SET doc = ?, k1 = ?, k2 = ?, k3 = ?, expires_at = ?, version = ? WHERE kind = ? AND id = ?",
			append(args, next, r.Kind, r.ID)...)
	} else {
		_, err = w.q.ExecContext(ctx, "INSERT INTO records (doc, k1, k2, k3, expires_at, version, kind, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			append(args, next, r.Kind, r.ID)...)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: put %s/%s: %w", r.Kind, r.ID, err)
	}
	return next, nil
}

func (w *txWriter) Delete(ctx context.Context, kind, id string, version int64) error {
	query, args := dialect.Delete(kind, id, w.now().UnixMilli(), version)
	res, err := w.q.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: delete %s/%s: %w", kind, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.MissedDelete(ctx, w, kind, id, version)
	}
	w.req[recordKey{kind, id}] = pendingWrite{deleted: true}
	return nil
}

func (w *txWriter) Append(ctx context.Context, e store.Event) error {
	e, doc, err := e.Prepared(w.now())
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	ms := e.Time.UnixMilli()
	res, err := w.q.ExecContext(ctx, "INSERT INTO events (id, time, type, resource, doc, target) VALUES (?, ?, ?, ?, ?, ?)",
		e.ID, ms, e.Type, e.Resource, doc, e.Target)
	if err != nil {
		return fmt.Errorf("sqlite: append event %s: %w", e.Type, err)
	}
	w.appended = true
	// seq is the rowid; SQLite reports the last one inserted without a query.
	if e.Seq, err = res.LastInsertId(); err == nil {
		// Kept as Events would read it back (recentEvents).
		e.Time, e.Doc = time.UnixMilli(ms), append([]byte(nil), doc...)
		w.reqEvents = append(w.reqEvents, e)
	} else {
		w.eventsUnknown = true
	}
	return nil
}

func (w *txWriter) AfterCommit(f func()) { w.hooks = append(w.hooks, f) }
