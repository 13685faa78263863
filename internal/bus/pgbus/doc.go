// Package pgbus is the bus between replicas over PostgreSQL LISTEN/NOTIFY,
// so that replicas need nothing but the database.
//
// Notifications are sent with pg_notify on a pooled connection, after the
// change they announce has committed and outside any data transaction (a
// NOTIFY inside a transaction takes a database-wide lock at commit and
// serialises commits). Every replica LISTENs on one channel, "muster_bus",
// through a dedicated connection of its own — opened with the URL given,
// not through the pool — which reconnects with backoff; after each
// (re)connection it calls the Resync callbacks, since notifications sent
// while it was away are not replayed.
//
// PgBouncer in transaction mode cannot carry LISTEN: point the bus at
// PostgreSQL directly (or at a session-mode pool), even when the store goes
// through a transaction-mode pooler (which also needs
// default_query_exec_mode=exec in the store's URL).
package pgbus
