// Package sdk serves the GameLift Server SDK 5 WebSocket protocol to game
// server processes, so servers built with the official SDKs (Go, C++, C#,
// Unreal, Unity) run on Muster unchanged. The protocol is described in
// docs/server-sdk-protocol.md.
//
// One port serves plain WebSocket and TLS: the first byte of a connection
// decides (0x16 starts a TLS handshake), because the C++ SDK — and so
// Unreal — dials TLS even for a ws:// URL without verifying the
// certificate, while the Go SDK follows the URL's scheme and verifies it.
// The certificate is the operator's (--sdk-tls-cert/--sdk-tls-key) or a
// self-signed ECDSA one generated into the data directory
// (sdk-tls-cert.pem, sdk-tls-key.pem); trust it with SSL_CERT_FILE for Go
// servers on wss://.
//
// A process authenticates with a compute auth token in the Authorization
// query parameter (bound to one fleet and compute; any path, with or
// without a trailing slash, is accepted) and is identified by pID. A
// reconnect with the same pID re-attaches to the process's state without a
// new ActivateServerProcess; the newest socket receives pushes, and
// requests are answered on the socket they came on. Sockets are never
// closed with a close frame (the Go SDK would reconnect at once, the C++
// one would give up); on shutdown the TCP connections are dropped so the
// SDKs reconnect to the restarted server.
//
// Every request is answered exactly once with its RequestId and Action.
// Requests that change state (ActivateGameSession, AcceptPlayerSession,
// RemovePlayerSession, UpdatePlayerSessionCreationPolicy,
// TerminateServerProcess, StartMatchBackfill, StopMatchBackfill) are
// idempotent per RequestId: the C++ SDK re-sends an unanswered request with
// the same RequestId, even on a new connection, and gets the first answer
// again (the last 64 per process are remembered in memory). A RequestId
// re-used with a different body (the Go SDK re-uses request objects) is a
// new request. Pushes carry no RequestId and "StatusCode":200.
//
// Replicas sharing a store each run an endpoint, behind one TCP load
// balancer (docs/replicas.md). A push for a process whose socket is on
// another replica travels as a wake-up on the bus (ids only), and the
// replica holding the socket reads the rest from the store; when a process
// connects, after the bus reconnects and every 5 s, the endpoint also
// sends what the store says the process must know and this replica has not
// sent (replicas.go). An UpdateGameSession for a process connected
// elsewhere waits in the store (kind sdkupdate, secondary key 1 the process
// id, expiring after an hour) until the replica holding the socket has
// written it (updates.go). A RefreshConnection carries its URL and auth
// token in its wake-up, the one push whose data is kept nowhere else.
package sdk
