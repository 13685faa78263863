// Package store owns the contract between Muster's services and the place
// their state lives: a small record-and-outbox interface that every backend
// (SQLite embedded, PostgreSQL distributed) implements and that one
// conformance suite (package storetest) checks.
//
// State is kept as versioned JSON records addressed by (kind, id), each with
// up to three secondary keys that the owning service chooses (for example a
// game session's fleet and status), an optional expiry, and an event outbox
// written in the same transaction as the change that makes the event.
// Services keep their domain types and rules; the store only guarantees
// atomicity, optimistic concurrency and durability. Writes made through
// Update are durable when Update returns nil.
package store
