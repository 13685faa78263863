package sqlstore

import (
	"strconv"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/store"
)

// Dialect is what differs between the backends' SQL.
type Dialect struct {
	// Name is the backend's name, the prefix of the errors its shared
	// statements return ("sqlite: …").
	Name string
	// Param writes the n-th parameter (from 1): "$n" or "?".
	Param func(n int) string
	// From names the records table for a Find by key: SQLite names the
	// secondary key's index, which its planner would otherwise pass over.
	From func(key int) string
	// EmptyDoc is an empty document literal of the doc column's type.
	EmptyDoc string
	// InlineLimit writes a LIMIT into the SQL rather than binding it:
	// SQLite re-plans a statement whose LIMIT is a parameter on every
	// execution. Limits are integers Muster controls, so the set of
	// distinct statements stays small.
	InlineLimit bool
}

// DefaultLimit is the page size of a query that sets none.
const DefaultLimit = 100

// ItemColumns are the columns ScanItem reads, in its order.
const ItemColumns = "kind, id, doc, coalesce(k1,''), coalesce(k2,''), coalesce(k3,''), version, expires_at"

// itemColumnsNoDoc is ItemColumns with an empty document (Query.NoDocs).
func (d Dialect) itemColumns(noDocs bool) string {
	if noDocs {
		return "kind, id, " + d.EmptyDoc + ", coalesce(k1,''), coalesce(k2,''), coalesce(k3,''), version, expires_at"
	}
	return ItemColumns
}

// params collects a query's arguments and writes their placeholders.
type params struct {
	d    Dialect
	args []any
}

func (p *params) add(v any) string {
	p.args = append(p.args, v)
	return p.d.Param(len(p.args))
}

func (p *params) limit(n int) string {
	if n <= 0 {
		n = DefaultLimit
	}
	if p.d.InlineLimit {
		return " LIMIT " + strconv.Itoa(n)
	}
	return " LIMIT " + p.add(n)
}

// Find is the query of Reader.Find at now (epoch milliseconds), and its
// arguments. q.Key must be 0 to 3.
func (d Dialect) Find(q store.Query, now int64) (string, []any) {
	col := "id"
	if q.Key > 0 {
		col = "k" + strconv.Itoa(q.Key)
	}
	p := &params{d: d}
	var sb strings.Builder
	sb.WriteString("SELECT " + d.itemColumns(q.NoDocs) + d.From(q.Key) + " WHERE kind = " + p.add(q.Kind) +
		" AND (expires_at IS NULL OR expires_at > " + p.add(now) + ")")
	switch {
	case q.Prefix && q.Value != "":
		// A range rather than LIKE, so the index is used and % or _ in a
		// value mean nothing.
		sb.WriteString(" AND " + col + " >= " + p.add(q.Value) + " AND " + col + " < " + p.add(q.Value+"\U0010FFFF"))
	case q.Prefix:
		if q.Key > 0 {
			sb.WriteString(" AND " + col + " IS NOT NULL")
		}
	default:
		sb.WriteString(" AND " + col + " = " + p.add(q.Value))
	}
	if q.After != "" {
		if q.Key == 0 {
			sb.WriteString(" AND id > " + p.add(q.After))
		} else {
			val, id, _ := strings.Cut(q.After, "\x00")
			sb.WriteString(" AND (" + col + " > " + p.add(val) + " OR (" + col + " = " + p.add(val) + " AND id > " + p.add(id) + "))")
		}
	}
	if q.Key == 0 {
		sb.WriteString(" ORDER BY id")
	} else {
		sb.WriteString(" ORDER BY " + col + ", id")
	}
	sb.WriteString(p.limit(q.Limit))
	return sb.String(), p.args
}

// Events is the query of Reader.Events, and its arguments; ScanEvent reads
// its rows.
func (d Dialect) Events(q store.EventQuery) (string, []any) {
	p := &params{d: d}
	query := "SELECT seq, id, time, type, resource, doc, target FROM events WHERE seq > " + p.add(q.After)
	if q.Type != "" {
		query += " AND type = " + p.add(q.Type)
	}
	return query + " ORDER BY seq" + p.limit(q.Limit), p.args
}

// Delete is the statement of Writer.Delete at now (epoch milliseconds),
// and its arguments: it deletes the record while it is live, and only at
// version when version is set. When it deletes nothing, store.MissedDelete
// says why.
func (d Dialect) Delete(kind, id string, now, version int64) (string, []any) {
	p := &params{d: d}
	query := "DELETE FROM records WHERE kind = " + p.add(kind) + " AND id = " + p.add(id) +
		" AND (expires_at IS NULL OR expires_at > " + p.add(now) + ")"
	if version > 0 {
		query += " AND version = " + p.add(version)
	}
	return query, p.args
}

// Scanner is a row: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows all are.
type Scanner interface{ Scan(dest ...any) error }

// ScanItem reads a row of ItemColumns.
func ScanItem(sc Scanner) (store.Item, error) {
	var it store.Item
	var exp *int64
	if err := sc.Scan(&it.Kind, &it.ID, &it.Doc, &it.Keys[0], &it.Keys[1], &it.Keys[2], &it.Version, &exp); err != nil {
		return it, err
	}
	if exp != nil {
		it.ExpiresAt = time.UnixMilli(*exp)
	}
	return it, nil
}

// ScanEvent reads a row of the Events query.
func ScanEvent(sc Scanner) (store.Event, error) {
	var e store.Event
	var ms int64
	var doc []byte
	if err := sc.Scan(&e.Seq, &e.ID, &ms, &e.Type, &e.Resource, &doc, &e.Target); err != nil {
		return e, err
	}
	e.Time, e.Doc = time.UnixMilli(ms), doc
	return e, nil
}

// Rows is a result set: *sql.Rows and pgx.Rows both are.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Collect reads every row of rows with scan.
func Collect[T any](rows Rows, scan func(Scanner) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Key is a secondary key as a parameter: NULL when empty, so that the
// partial indexes leave it out.
func Key(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Expiry is an expiry as a parameter: epoch milliseconds, or NULL for
// none.
func Expiry(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}
