// Package natsbus carries Muster's bus over NATS (--nats nats://…) and
// publishes the event outbox to NATS JetStream for other services.
//
// Wake-ups travel on core NATS subjects muster.bus.<topic>: at most once,
// like every bus message, so receivers catch up from the store after a
// reconnection (Config.Resync). Events are different: Publisher follows the
// outbox from a durable cursor and publishes every event to the stream
// MUSTER_EVENTS on muster.events.<type>, with the Nats-Msg-Id header set to
// the event's id, at least once. The stream's duplicate window (default
// 2 min) drops a re-publication inside it — after a crash between publishing
// and saving the cursor — so consumers see each event once in practice, and
// must still be idempotent across longer outages.
package natsbus
