// Package push delivers outbox events to players as they happen — over a
// WebSocket (GET /v1/ws), as Server-Sent Events (GET /v1/events) and as a
// long poll of a ticket — and streams the whole outbox to operators as
// Server-Sent Events (GET /v1/admin/events with Accept: text/event-stream).
//
// One Hub per process follows the outbox (outbox.Reader.Follow) and fans
// each event out in memory to the clients it concerns, so a thousand
// sockets cost one outbox read, not a thousand. Which player an event
// concerns comes from the event itself: a ticket's players are identity
// ids (matchmaking.StartForPlayer puts the caller's identity id in
// PlayerId), and a fulfilled placement names the players it seated. A
// player receives only its own tickets, and in a MatchmakingSucceeded only
// its own player session; a placement that did not seat anyone names no
// player, and the tickets it was for end with their own events.
//
// Every message carries the outbox event's id. A client resumes with that
// id (?after=, a resume message, Last-Event-ID): the Hub maps it to the
// event's sequence number through an in-memory index of the most recent
// player events (Config.ResumeWindow, loaded from the outbox's tail at
// start), replays from the outbox and then continues live, deduplicating by
// sequence number, so there is no gap. An id the index no longer holds (or
// never held), whose event the outbox no longer keeps, or which lies more
// than Config.ReplayLimit events back is answered with an explicit reset
// message: the client must re-read its tickets, never assume it missed
// nothing.
//
// Resumes are bounded because a replay reads every outbox event after the
// id, everyone's, while asking costs the client one short message. One
// replay reads at most ReplayLimit events (default 5,000: a client back
// from a short loss of signal resumes, one away for longer re-reads its one
// or two tickets, which costs less than reading the outbox back). A
// WebSocket answers its messages one at a time on its reader, so it has at
// most one resume in flight, and it may resume Config.ResumeBurst times
// (default 4, its URL's ?after= included), earning one more every
// Config.ResumeEvery (default 30 s); past that it is closed with code 4029.
// A client resumes once per connection, so it never meets these bounds. An
// event stream resumes only as it opens, one HTTP request each, which the
// player API's per-IP request limit already counts; its replay has the
// same ReplayLimit.
//
// Each client has a bounded queue. The fan-out never blocks: a client whose
// queue is full is disconnected (close code 4008 on a WebSocket) and the
// others go on.
//
// Memory per socket: a WebSocket's handler returns once the connection is
// taken over, so net/http frees the request and its buffers; the socket
// keeps 512-byte read and 1 KiB write buffers (wsbuffers.go), its resume
// budget and one goroutine, its reader, which also answers the client's
// messages. Events are written by a goroutine started when some are queued
// and gone once they are written; the keep-alive and the token's expiry
// are timers. The
// operators' stream (Hub.OperatorStream) follows the outbox itself, waking
// like the Hub on local commits and, through Config.Wake, on other
// replicas' commits; resets are counted by stream (player, operator) in
// muster_push_resets_total. Time: token expiry and the refill of the resume
// budget run on the injected clock; ping intervals, the 10 s allowed for a
// first auth message and write deadlines are real time, because they
// measure the network, not the business.
//
// Tokens: an access token expiring without renewal closes the socket with
// code 4001. identity keeps revoked sessions in memory and offers no
// notification, so a live client's token is verified again every
// Config.PingInterval (15 s; a map look-up for a token already verified)
// and a revoked session closes the socket with 4001, or ends the event
// stream, at the next check. identity learns of a logout on another
// replica when it reloads revoked sessions (identity.Config.RefreshInterval,
// 10 s), so such a logout reaches an open stream within that interval plus
// PingInterval, 25 s by default; one on this replica within PingInterval.
// Stream tokens for EventSource (POST /v1/events/tokens) are single use,
// valid 60 s, and kept in this process's memory: with several replicas,
// the stream must be opened on the replica that issued the token.
package push
