// Package sqlite is Muster's embedded store: one SQLite file in the data
// directory, opened through the cgo-free ncruces driver, in WAL mode with
// synchronous=FULL so an answered write survives a crash or power loss.
//
// All writes go through one writer goroutine that folds the transactions
// waiting at that moment into one SQLite transaction (group commit), each in
// its own savepoint, so concurrent callers share an fsync without sharing a
// failure. The writer's WAL reaches the file in one write a commit, at the
// sync that makes the commit durable (gatherWALWrites). Reads use a
// separate pool of read-only connections, except point reads of the
// records the writer wrote or read last, which are answered from memory
// (recentRecords), and the outbox followers' reads of the latest commits'
// events, also answered from memory (recentEvents).
package sqlite
