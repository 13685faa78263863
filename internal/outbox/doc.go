// Package outbox reads the event outbox as a stream: in commit order, from
// a cursor, after commit, never on the store's writer or inside a
// transaction. Everything that reacts to a change — webhook delivery,
// players' WebSockets, NATS publishing, another replica's pools — follows
// the outbox through a Reader rather than hearing a commit hook, so it
// works the same whichever process made the change.
//
// A Reader wakes at once when a commit in its own process appends events
// (store.EventNotifier), when the bus says another replica did (Config.Wake),
// and otherwise polls every Config.Poll on the injected clock, which bounds
// how late a missed notification can make it. Consume keeps a durable
// cursor per consumer (kind "outboxcursor", id = the consumer's name), saved
// after each batch is handled, so a restart resumes where it stood: delivery
// is at least once, and a consumer must tolerate seeing the last batch
// again.
package outbox
