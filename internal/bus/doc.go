// Package bus carries wake-ups between control-plane replicas: "events were
// committed", "a ticket arrived for a pool you own", "a push waits for a
// game server connected to you". Messages are small — a topic and an id —
// and never data: the data is in the store, and a receiver reads it from
// there. A message is sent after its transaction commits, outside any data
// transaction, and may be lost (a replica restarting, a connection
// dropping); so every receiver also catches up from the store when it
// (re)connects — the bus makes reactions fast, never correct on its own.
//
// Implementations: Local (one process; what a single replica and most
// tests use), pgbus.Bus (PostgreSQL LISTEN/NOTIFY, the default between
// replicas, needing nothing but the database) and natsbus.Bus (--nats).
//
// Events relays "events were committed" on TopicEvents, so outbox readers
// wake at once on other replicas' commits; the SDK endpoint sends pushes
// for game servers connected elsewhere on TopicSDK.
package bus
