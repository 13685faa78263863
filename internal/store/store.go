package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotFound means no live record has that kind and id.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a create found the record present, or an update
	// found another version than the one it read.
	ErrConflict = errors.New("store: version conflict")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrStorageFull means a write was refused because the database's
	// disk is full (or the database reached a size it was capped at):
	// nothing of the transaction was written, and writes succeed again
	// once there is room. Backends wrap their own error with it.
	ErrStorageFull = errors.New("store: out of disk space, the write was not made")
	// ErrStorageFailed means the disk failed a write while it still had
	// room: nothing of the transaction was written.
	ErrStorageFailed = errors.New("store: the disk failed a write, the write was not made")
)

// Keys are a record's secondary keys; an empty string is no key.
type Keys [3]string

// Record is what a service writes.
type Record struct {
	Kind string
	ID   string
	// Doc is the record's JSON document.
	Doc []byte
	// Keys are up to three secondary keys that Find can look up.
	Keys Keys
	// Version is the version the caller read: 0 creates the record (and
	// fails with ErrConflict if it exists); n > 0 replaces version n (and
	// fails with ErrConflict if the record has moved on).
	Version int64
	// Upsert skips the version check: create or replace, whatever is there.
	Upsert bool
	// ExpiresAt, when not zero, is when the record stops being visible.
	ExpiresAt time.Time
}

// Item is what a reader gets back.
type Item struct {
	Kind      string
	ID        string
	Doc       []byte
	Keys      Keys
	Version   int64
	ExpiresAt time.Time
}

// Query selects records of one kind, ordered by the selected key then id.
type Query struct {
	Kind string
	// Key is 0 to list every record of the kind by id, or 1..3 to look up
	// by that secondary key.
	Key int
	// Value is the key value to match (the id prefix when Key is 0).
	Value string
	// Prefix matches every value that starts with Value.
	Prefix bool
	// After resumes after the record with this id (a cursor). Records are
	// ordered by (key value, id), so with Prefix the cursor must be
	// "value\x00id": use Cursor.
	After string
	// Limit caps the result; 0 means 100.
	Limit int
	// NoDocs leaves Item.Doc empty, for listings that need only ids, keys
	// and versions: the store then reads no documents.
	NoDocs bool
}

// Cursor returns the After value that resumes a Query after it.
func (q Query) Cursor(it Item) string {
	if q.Key == 0 {
		return it.ID
	}
	return it.Keys[q.Key-1] + "\x00" + it.ID
}

// Event is one entry of the outbox.
type Event struct {
	// Seq is assigned by the store: increasing in commit order (there may
	// be gaps where a transaction rolled back).
	Seq int64
	// ID is a unique event id (the caller may leave it empty).
	ID string
	// Time is when the change happened, from the service's clock.
	Time time.Time
	// Type is the event type, e.g. "MatchmakingSucceeded" or "LocationCreated".
	Type string
	// Resource is the id or ARN of the resource the event is about.
	Resource string
	// Doc is the event's JSON document.
	Doc json.RawMessage
	// Target is where notifications about Resource went when the event was
	// written (a GameLift NotificationTarget; "" when it had none), so that
	// delivery follows the resource as it was then rather than as it is,
	// or is no longer, when the event is read. It is kept beside Doc, not
	// in it, because Doc is the document receivers are sent. nil means
	// none was recorded: events of resources that have no target, and
	// events written before the store kept targets.
	Target *string
}

// EventQuery pages through the outbox.
type EventQuery struct {
	After int64
	// Type keeps only events of that type. No index serves it (one cost
	// every event a second B-tree write): the store reads forward from
	// After until it has Limit of them, which is quick for the types a
	// busy outbox is full of and reads much of it for a rare one.
	Type  string
	Limit int
}

// Reader reads committed state.
type Reader interface {
	Get(ctx context.Context, kind, id string) (Item, error)
	Find(ctx context.Context, q Query) ([]Item, error)
	Events(ctx context.Context, q EventQuery) ([]Event, error)
}

// Writer changes state inside one transaction. Its reads see the
// transaction's own writes.
type Writer interface {
	Reader
	// Put writes a record and returns its new version.
	Put(ctx context.Context, r Record) (int64, error)
	// Delete removes a record; version 0 deletes whatever version is there.
	Delete(ctx context.Context, kind, id string, version int64) error
	// Append adds an event to the outbox; it commits with the transaction.
	Append(ctx context.Context, e Event) error
	// AfterCommit runs f after the transaction commits (never if it rolls
	// back), in the goroutine that called Update, before Update returns —
	// never on the store's writer, so a slow f holds up no other commit and
	// f may itself call Update. Effects outside the database (pushes,
	// wake-ups, in-memory caches) belong here.
	AfterCommit(f func())
}

// Store is a backend.
type Store interface {
	// View runs fn against committed state, never against a write in
	// progress. Each read is consistent on its own (a Find never mixes two
	// commits), but two reads in one View may straddle a commit: to act on
	// what you read, read inside Update, which is serialised with every
	// other writer. (Per-statement reads are what a read-only snapshot
	// transaction costs three times as much to give on SQLite.)
	View(ctx context.Context, fn func(Reader) error) error
	// Update runs fn in a transaction and commits it durably; if fn returns
	// an error nothing it wrote is kept. fn runs exactly once, serialised
	// with every other Update on the same database — across processes too
	// (package postgres takes a database-wide write lock) — so a
	// read-check-write inside fn is atomic. Event sequence numbers are
	// assigned in commit order: a reader paging the outbox by Seq never
	// passes an event that commits later with a smaller number.
	//
	// ctx is looked at while the call waits for the writer and once more
	// before fn runs; once fn runs, its statements go to the database
	// under the transaction's own context whatever the contexts fn passes,
	// because fn shares its transaction with other callers' functions
	// (one caller's cancellation would end the others' writes). Update
	// then waits for the verdict, even past ctx's end: the caller learns
	// whether the write committed.
	Update(ctx context.Context, fn func(Writer) error) error
	// Ready reports whether the store is open and migrated.
	Ready(ctx context.Context) error
	Close() error
}

// GetJSON reads a record and decodes its document into a new T.
func GetJSON[T any](ctx context.Context, r Reader, kind, id string) (T, int64, error) {
	var v T
	it, err := r.Get(ctx, kind, id)
	if err != nil {
		return v, 0, err
	}
	if err := json.Unmarshal(it.Doc, &v); err != nil {
		return v, 0, fmt.Errorf("store: decode %s/%s: %w", kind, id, err)
	}
	return v, it.Version, nil
}

// Decode decodes every item's document into a slice of T.
func Decode[T any](items []Item) ([]T, error) {
	out := make([]T, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it.Doc, &out[i]); err != nil {
			return nil, fmt.Errorf("store: decode %s/%s: %w", it.Kind, it.ID, err)
		}
	}
	return out, nil
}

// MustJSON encodes v for a Record or Event document. Encoding a service's own
// plain data types cannot fail; a failure is a programming error.
func MustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: encode %T: %v", v, err))
	}
	return b
}

// Dumper is implemented by a store that can list every record of every
// kind, for copying one store into another (muster store copy).
type Dumper interface {
	// DumpRecords calls fn for every record, expired ones included, in
	// (kind, id) order.
	DumpRecords(ctx context.Context, fn func(Item) error) error
}

// Loader is implemented by a store that can take records and events
// exactly as another store holds them — versions, expiries, sequence
// numbers — for copying into an empty store.
type Loader interface {
	LoadRecords(ctx context.Context, items []Item) error
	LoadEvents(ctx context.Context, events []Event) error
}

// Forgetter is a Writer that deletes a record without telling whether it
// was there. A backend bound by round trips (PostgreSQL) sends such a
// delete with its next statement instead of waiting for a row count.
type Forgetter interface {
	Forget(ctx context.Context, kind, id string) error
}

// Forget deletes a record whatever its version; one that is not there is
// no error. A failure may be reported by a later call of the same
// transaction function, which fails with it.
func Forget(ctx context.Context, w Writer, kind, id string) error {
	if f, ok := w.(Forgetter); ok {
		return f.Forget(ctx, kind, id)
	}
	if err := w.Delete(ctx, kind, id, 0); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// PutHolder is a Writer that can send a Put with its transaction's next
// statement (PutHeld).
type PutHolder interface {
	PutHeld(ctx context.Context, r Record) (int64, error)
}

// PutHeld writes r as Put does, for a caller for whom a conflict fails its
// whole transaction function. A backend bound by round trips (PostgreSQL)
// sends the write with the function's next statement, and a conflict or a
// record gone is reported then, by that call or as the function's own
// error, wrapping ErrConflict. It returns the version r has once written.
// An upsert is always written at once.
func PutHeld(ctx context.Context, w Writer, r Record) (int64, error) {
	if h, ok := w.(PutHolder); ok && !r.Upsert {
		return h.PutHeld(ctx, r)
	}
	return w.Put(ctx, r)
}
