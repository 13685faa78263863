// Package client is the Go SDK of Muster's player API, for game clients and
// tools written in Go (other engines use the OpenAPI document the server
// serves at /v1/openapi.json).
//
// A Client is one player talking to one Muster server:
//
//	c := client.New("https://muster.example.com", client.WithUserAgent("my-game/1.4"))
//	if _, err := c.SignInDevice(ctx, deviceID, deviceSecret); err != nil { … }
//	latencies, err := c.MeasureLatencies(ctx)             // location → ms
//	m, err := c.FindMatch(ctx, "duel", latencies)         // COMPLETED, or a *TicketError
//	conn := dial(m.Addr(), m.PlayerSessionID)             // the game server validates the seat
//
// # Signing in
//
// SignInAnonymous makes a new identity; SignInDevice binds one to a device
// (an id and a secret the game generates and keeps); SignInOIDC exchanges
// an ID token from an OpenID Connect provider the operator configured. The
// client keeps the session's tokens and, before a call, refreshes an
// access token close to its expiry (WithRefreshBefore); a call whose token
// the server refuses (401) is sent once more after a refresh. Refresh tokens are single-use and rotate on every refresh:
// presenting a spent one revokes the whole session, so a Client
// serialises refreshes, and a game that saves the session (Session, as
// JSON) to sign the player in again on its next run must save it from
// OnSessionChange and start the next run WithSession. Logout revokes the
// session on the server.
//
// Developer sign-in (POST /v1/identity/developer, a studio's own user
// vouched for by its backend) takes operator credentials, which never
// belong in a game client: it is a server-to-server call and not part of
// this package.
//
// # Latency
//
// MeasureLatencies lists the locations (GET /v1/locations) and pings each
// one's UDP beacon with package beacon (docs/beacon-protocol.md). Round
// trips are rounded up to whole milliseconds, a sub-millisecond one to 1,
// since a ticket's latencies must be at least 1.
//
// # Matchmaking
//
// StartMatchmaking asks for a match in a configuration the operator opened
// to players (ForParty for a party the player leads: CreateParty,
// JoinParty); the player's attributes come from their player record on the
// server, never from the client. Wait follows the ticket until it is
// finished: COMPLETED gives a Match with the game server's address and the
// player's own player session id; FAILED, TIMED_OUT and CANCELLED give a
// *TicketError with the status and the reason. OnAcceptance lets the game
// answer each match proposed (AcceptMatch) in configurations that require
// acceptance: a proposal that fails sends the ticket back to searching,
// and the next one is offered too, once. FindMatch does both in one call,
// for a player asking alone.
//
// Wait follows the ticket over the player's event stream (GET /v1/ws, a
// WebSocket of the player's events) where the server offers one. It reads
// the ticket once the stream is open, so no change falls in between;
// FindMatch opens the stream before it starts the ticket and needs no such
// read. After that each event about the ticket carries it; the ticket is
// read again only for a final state other than COMPLETED (the ticket's own
// record), after a reset or a long silence. The stream hands the server a
// fresh access token before the one it holds expires. A stream that ends
// is opened again, resuming after the last event it delivered: at once
// after one that lived long, else after a backoff, polling the ticket
// meanwhile; one the server closed for its access token is opened with a
// fresh one. A stream silent for longer than WithStreamSilence (30 s by
// default, twice the server's pings; the client pings a quiet stream
// first) is taken for a connection whose server is gone, and opened
// again. Where the server refuses the stream outright (an older server, a
// network that refuses WebSockets) or WithPolling asks for it, Wait polls
// the ticket (WithPollInterval, DefaultPollInterval by default). Either
// way it tells one proposed match from the next by the ticket's MatchID;
// from a server that does not give it, polling tells a new proposal from
// the last only when a read finds the ticket out of REQUIRES_ACCEPTANCE in
// between.
//
// Either way Wait rides out an outage of the server (a restart, a rolling
// restart of replicas, the player's network): it tries again after a
// pause that doubles from 250 ms to 10 s, with jitter (WithRetryBackoff),
// and no sooner than the server's Retry-After, for up to WithMaxOutage (12
// hours by default), so that in practice only the caller's context, the
// ticket's end or an error other than the server's absence ends it.
//
// # Errors
//
// The API's errors are RFC 9457 problem documents, returned as *Error with
// the HTTP status, the problem's type, title and detail, and every bad
// member of the request by JSON path (Fields, Field):
//
//	var e *client.Error
//	if errors.As(err, &e) && e.Status == http.StatusForbidden { … }
package client
