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
// again. ConsumeSettled serves a consumer that may stop mid-batch (a webhook
// worker waiting on a receiver): its handler reports the last event it
// settled, and the cursor moves past that one even when the batch is cut
// short.
//
// A cursor only moves forward: each save (Advance) reads it in the same
// write transaction and leaves it alone when it already stands at or past
// the new position, so a consumer paused inside a batch (SIGSTOP, a long
// pause) that wakes after another replica took over and went further does
// not send the cursor back. A consumer running under a lease passes a
// Consumer.Check (lease.Check) that runs in that transaction, and its saves
// fail once the lease has moved on.
package outbox
