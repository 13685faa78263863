// Package relay carries ids to the replica that owns the work they belong
// to: a ticket written on one replica for a matchmaking pool another
// replica runs, a placement started where the placer does not run. It
// sits on the bus between replicas (package bus), after commit and never
// inside a data transaction.
//
// Send queues ids under a key ("tickets of configuration X") and returns
// at once; Run sends what is queued as few messages as it can — one per
// key while earlier messages are in flight, each under PostgreSQL's
// NOTIFY payload limit — so a burst of writes costs a handful of messages,
// not one each. Listen hands every received message to one goroutine, in
// order, off the bus's own goroutine.
//
// A message carries ids, never data: the receiver reads the records from
// the store. Messages may be lost (a replica restarting, a connection
// dropping), so every receiver also catches up from the store — the relay
// makes hand-offs fast, never correct on its own.
package relay
