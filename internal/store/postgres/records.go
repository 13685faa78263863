package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlstore"
)

// reader reads through the pool (View) or inside the writer's transaction.
type reader struct {
	q   txQuerier
	now func() time.Time
}

type writer struct {
	reader
	tx    *pipeline
	hooks []func()
	// appended is set once the transaction appends an event; a spurious
	// wake-up after a rolled-back savepoint's append is harmless.
	appended bool
	// read keeps the records the transaction read, so that a record read
	// again (a matchmaking configuration, once for each ticket of a batch)
	// costs no round trip. The store's write lock keeps them current: no
	// other writer changes a record before this transaction ends. Writing
	// a record forgets it; a function rolled back forgets them all.
	read map[recordKey]store.Item
}

type recordKey struct{ kind, id string }

// Get reads a record, from what the transaction read before when it can.
func (w *writer) Get(ctx context.Context, kind, id string) (store.Item, error) {
	k := recordKey{kind, id}
	if it, ok := w.read[k]; ok && (it.ExpiresAt.IsZero() || it.ExpiresAt.UnixMilli() > w.now().UnixMilli()) {
		it.Doc = bytes.Clone(it.Doc) // the caller's to change
		return it, nil
	}
	it, err := w.reader.Get(ctx, kind, id)
	if err != nil {
		return it, err
	}
	if w.read == nil {
		w.read = map[recordKey]store.Item{}
	}
	w.read[k] = it
	it.Doc = bytes.Clone(it.Doc)
	return it, nil
}

// forgetReads drops what the transaction read: a function's writes were
// rolled back, and what it read after them is no longer so.
func (w *writer) forgetReads() { clear(w.read) }

// dialect is PostgreSQL's side of the SQL both stores speak.
var dialect = sqlstore.Dialect{
	Name:     "postgres",
	Param:    func(n int) string { return "$" + strconv.Itoa(n) },
	From:     func(int) string { return " FROM records" },
	EmptyDoc: "''::bytea",
}

func (r *reader) Get(ctx context.Context, kind, id string) (store.Item, error) {
	row := r.q.QueryRow(ctx, "SELECT "+sqlstore.ItemColumns+
		" FROM records WHERE kind = $1 AND id = $2 AND (expires_at IS NULL OR expires_at > $3)", kind, id, r.now().UnixMilli())
	it, err := sqlstore.ScanItem(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return it, fmt.Errorf("%s %q: %w", kind, id, store.ErrNotFound)
	}
	if err != nil {
		return it, fmt.Errorf("postgres: get %s/%s: %w", kind, id, err)
	}
	return it, nil
}

func (r *reader) Find(ctx context.Context, q store.Query) ([]store.Item, error) {
	if q.Key < 0 || q.Key > 3 {
		return nil, fmt.Errorf("postgres: find: key %d out of range 0..3", q.Key)
	}
	query, args := dialect.Find(q, r.now().UnixMilli())
	rows, err := r.q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: find %s: %w", q.Kind, err)
	}
	defer rows.Close()
	out, err := sqlstore.Collect(rows, sqlstore.ScanItem)
	if err != nil {
		return nil, fmt.Errorf("postgres: find %s: %w", q.Kind, err)
	}
	return out, nil
}

func (r *reader) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	query, args := dialect.Events(q)
	rows, err := r.q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: events: %w", err)
	}
	defer rows.Close()
	out, err := sqlstore.Collect(rows, sqlstore.ScanEvent)
	if err != nil {
		return nil, fmt.Errorf("postgres: events: %w", err)
	}
	return out, nil
}

// Put writes a record in one statement for each case. A statement error
// would abort the whole transaction in PostgreSQL, so version conflicts
// are found with ON CONFLICT and row counts, never by catching a unique
// violation.
func (w *writer) Put(ctx context.Context, r store.Record) (int64, error) {
	query, args, err := w.putStatement(r)
	if err != nil {
		return 0, err
	}
	var version int64
	err = w.tx.QueryRow(ctx, query+" RETURNING version", args...).Scan(&version)
	if err == nil {
		return version, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: put %s/%s: %w", r.Kind, r.ID, err)
	}
	if r.Version == 0 {
		return 0, fmt.Errorf("%s %q already exists: %w", r.Kind, r.ID, store.ErrConflict)
	}
	it, err := w.Get(ctx, r.Kind, r.ID)
	if err != nil {
		return 0, err // not found (or expired), or the read's own failure
	}
	return 0, fmt.Errorf("%s %q is at version %d, not %d: %w", r.Kind, r.ID, it.Version, r.Version, store.ErrConflict)
}

// PutHeld holds a create or an update for the transaction's next round
// trip (store.PutHeld): its version is known ahead, 1 or one past
// r.Version, and a miss is reported when it goes out. A miss must be a
// statement error, not a row count: the pipeline that carries it may
// carry the function's RELEASE SAVEPOINT too, which an error stops and a
// row count does not, and only an open savepoint can undo the function's
// other writes. So the write runs in a CTE whose count divides one.
func (w *writer) PutHeld(ctx context.Context, r store.Record) (int64, error) {
	if r.Upsert {
		return w.Put(ctx, r)
	}
	query, args, err := w.putStatement(r)
	if err != nil {
		return 0, err
	}
	missed := fmt.Errorf("%s %q is not at version %d, or is gone: %w", r.Kind, r.ID, r.Version, store.ErrConflict)
	if r.Version == 0 {
		missed = fmt.Errorf("%s %q already exists: %w", r.Kind, r.ID, store.ErrConflict)
	}
	w.tx.holdOneRow("put "+r.Kind, missed, "WITH put AS ("+query+" RETURNING 1) SELECT 1 / count(*) FROM put", args...)
	return r.Version + 1, nil
}

// putStatement is the statement that writes r, without RETURNING.
func (w *writer) putStatement(r store.Record) (string, []any, error) {
	if r.Kind == "" || r.ID == "" {
		return "", nil, fmt.Errorf("postgres: put: kind and id are required")
	}
	delete(w.read, recordKey{r.Kind, r.ID})
	args := []any{r.Kind, r.ID, r.Doc, sqlstore.Key(r.Keys[0]), sqlstore.Key(r.Keys[1]), sqlstore.Key(r.Keys[2]), sqlstore.Expiry(r.ExpiresAt), w.now().UnixMilli()}
	const insert = "INSERT INTO records (kind, id, doc, k1, k2, k3, expires_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, 1) " +
		"ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, k1 = excluded.k1, k2 = excluded.k2, k3 = excluded.k3, expires_at = excluded.expires_at, "
	const live = "(records.expires_at IS NULL OR records.expires_at > $8)"
	switch {
	case r.Upsert:
		// Replacing an expired record starts its versions again, as a create does.
		return insert + "version = CASE WHEN " + live + " THEN records.version + 1 ELSE 1 END", args, nil
	case r.Version == 0:
		// A create may replace only an expired record.
		return insert + "version = 1 WHERE NOT " + live, args, nil
	default:
		return "UPDATE records SET doc = $3, k1 = $4, k2 = $5, k3 = $6, expires_at = $7, version = version + 1 " +
			"WHERE kind = $1 AND id = $2 AND " + live + " AND version = $9", append(args, r.Version), nil
	}
}

func (w *writer) Delete(ctx context.Context, kind, id string, version int64) error {
	delete(w.read, recordKey{kind, id})
	query, args := dialect.Delete(kind, id, w.now().UnixMilli(), version)
	tag, err := w.tx.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("postgres: delete %s/%s: %w", kind, id, err)
	}
	if tag.RowsAffected() == 0 {
		return store.MissedDelete(ctx, w, kind, id, version)
	}
	return nil
}

// Forget holds the record's delete for the transaction's next round trip
// (store.Forget): whether the record was there is no one's concern, so
// its only result is whether it failed.
func (w *writer) Forget(ctx context.Context, kind, id string) error {
	delete(w.read, recordKey{kind, id})
	query, args := dialect.Delete(kind, id, w.now().UnixMilli(), 0)
	w.tx.hold("delete "+kind, query, args...)
	return nil
}

// Append holds the event's insert for the transaction's next round trip
// (see pipeline): its only result is whether it failed.
func (w *writer) Append(ctx context.Context, e store.Event) error {
	e, doc, err := e.Prepared(w.now())
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	w.tx.hold("append event "+e.Type, "INSERT INTO events (id, time, type, resource, doc, target) VALUES ($1, $2, $3, $4, $5, $6)",
		e.ID, e.Time.UnixMilli(), e.Type, e.Resource, doc, e.Target)
	w.appended = true
	return nil
}

func (w *writer) AfterCommit(f func()) { w.hooks = append(w.hooks, f) }
