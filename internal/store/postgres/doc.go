// Package postgres is the PostgreSQL store (github.com/jackc/pgx/v5): the
// backend for several `muster serve` replicas sharing one database. It
// passes the same conformance suite (package storetest) as the embedded
// SQLite store and keeps the same promises.
//
// Writes. Every writing transaction first takes one transaction-scoped
// advisory lock, the store's write lock, so writers in every replica are
// serialised as the single SQLite writer serialises them in one process:
// an Update's read-check-write is atomic across replicas (the last player
// slot, claiming an idle process), its function runs once, and the outbox's
// sequence numbers are drawn in commit order, so a reader paging by
// sequence number never skips an event that commits later with a smaller
// one. Within a replica, transactions waiting for the lock are folded into
// one commit (group commit), each in a savepoint of its own, as SQLite's
// writer does. The writer is bound by round trips, so statements whose
// only result is success or failure (the lock, savepoints, event appends)
// are held and pipelined with the next statement that returns rows
// (pipeline).
//
// Reads. View runs each statement on its own from the pool; every
// statement sees one committed snapshot, and expiry is compared with the
// time the store's injected clock gives, never the database's now().
//
// Schema. Embedded, numbered migrations (migrations/*.sql) are applied at
// Open under a session advisory lock, so replicas starting together apply
// each once; a replica refuses to start on a database whose schema is newer
// than any migration it carries.
package postgres
