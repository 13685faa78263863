// Package webhook delivers the outbox's GameLift events to studios' HTTP
// receivers: webhook subscriptions (the notification topics of GameLift's
// NotificationTarget), and their delivery workers.
//
// Store kinds and secondary keys:
//
//	subscription:       id the subscription id; K1 its name
//	webhookdeadletter:  id <subscription id>/<event seq, 20 digits>; K1 the
//	                    subscription id
//	webhookredrive:     id as webhookdeadletter: a dead letter sent back for
//	                    delivery; K1 the subscription id
//	webhookdeliveries:  id the subscription id: its recent attempts
//
// and each enabled subscription's outbox cursor (outbox.KindCursor, id
// "webhook/<subscription id>").
//
// # What is delivered, and where
//
// Webhooks carry GameLift's events: the EventBridge documents of FlexMatch
// and queue placement (source aws.gamelift) and fleet events
// (DescribeFleetEvents' shape). Muster's internal events (operator keys,
// signing keys, refresh tokens) are never delivered. Each delivery POSTs
// the event document itself, signed per Standard Webhooks (package sign)
// with webhook-id the event id.
//
// An event goes to a subscription when its type passes the subscription's
// event-type filter (empty: every type; its entries must be types webhooks
// deliver, EventTypes: FlexMatch's eight, placement's four and the fleet
// event codes Muster records, so a misspelt type is refused rather than
// matching nothing) and either its resource passes the
// resource filter (empty: every resource) or the resource's
// NotificationTarget names the subscription: arn:aws:sns:<region>:<account>:<name>
// in this installation's region and account (Routes). A new subscription
// receives the events committed after its creation.
//
// The NotificationTarget is the one the resource had when the event
// happened, as GameLift sends each event to the target configured when it
// was published: package matchmaking and package placement record it with
// each event (store.Event.Target, beside the delivered document, which
// stays the event as GameLift publishes it) in the transaction that writes
// the event, from the configuration or queue they hold. So an event
// written before an operator changes the target goes to the old one, and
// the PlacementFailed events of a queue's waiting placements, written as
// DeleteGameSessionQueue deletes it, still reach the subscription its
// target named. An event about a queue already deleted when it is written
// (a placement whose game session settles later) has no target. Events
// written before the store kept targets have none recorded, and go by the
// resource's target when they are delivered (StoreTargets).
//
// # Delivery
//
// Service.Run supervises one worker per enabled subscription, each an
// outbox consumer (package outbox) with its own durable cursor, so a slow
// receiver holds up only its own subscription. A worker delivers strictly in
// outbox order, one event at a time — which keeps the events of one ticket
// in order — and its cursor moves past each event once it is delivered or
// dead-lettered. The cursor is written at the end of each batch, when the
// worker stops mid-batch (410 Gone, the subscription disabled or deleted,
// a restart), before each wait between attempts, and after an event that
// needed retries; a crash otherwise sends again what the current batch had
// delivered: delivery is at least once, and receivers deduplicate by
// webhook-id.
//
// A 2xx answer delivers. Any other answer, a connection error, a refused
// destination or a time-out (Config.AttemptTimeout) is retried with
// exponential backoff and jitter, or after the receiver's Retry-After,
// until Config.RetryFor (24 h) has passed since the first attempt; the
// event then goes to the subscription's dead letters and the worker moves
// on. A restart begins an event's retry period again. 410 Gone disables the
// subscription (the specification's meaning); its cursor stays just before
// the event, which is the first sent if the subscription is enabled again.
// A disabled subscription does not hold back outbox pruning (Retain counts
// enabled ones): enabled again after --outbox-retention, it resumes past
// the events pruned meanwhile.
// Redriven dead letters are delivered, with the same retries, by a second
// worker of the subscription, beside the live stream.
//
// All waiting — backoff, time-outs, polls — is on the injected clock.
//
// Several replicas sharing one store give each subscription one deliverer
// through Config.Leases (package lease): Run registers a piece of work per
// enabled subscription and the lease Manager runs those whose lease this
// replica holds. Every write of the cursor checks the lease (lease.Check),
// so a replica paused past its lease that wakes mid-batch cannot move the
// cursor of the one that took over (which never moves backwards anyway);
// its worker stops at that write and waits for the Manager to end it.
// Retain tells an outbox pruner the lowest cursor of the
// enabled subscriptions, which pruning must not pass.
//
// The signing secret is shown once, at creation (and at each rotation), and
// kept sealed with Config.Box when one is given (in the clear otherwise).
// A rotation keeps the previous secret signing beside the new one for
// Config.RotationOverlap (24 h).
package webhook
