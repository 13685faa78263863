// Package sqlstore holds the SQL that the SQLite and PostgreSQL stores
// both speak to their one schema (tables records and events): the column
// lists, the query of a Find and of an outbox read, the statement of a
// Delete, the paging of a dump, the pruning of the outbox, the scanning of
// their rows and the encoding of keys and expiries. A Dialect says where
// the two databases differ: how a parameter is written, how the records
// table is named in a query, how an empty document is written, and whether
// a LIMIT is bound or written into the SQL.
package sqlstore
