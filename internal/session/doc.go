// Package session owns game sessions and player sessions: creating a game
// session on an idle server process (the claim of the process is atomic,
// inside one store transaction), its lifecycle ACTIVATING → ACTIVE →
// TERMINATING → TERMINATED (or ERROR when the process does not activate it
// in time), SearchGameSessions' filter and sort language, and player
// session reservations (RESERVED → ACTIVE → COMPLETED, or TIMEDOUT after
// 60 s unless the game server accepts them).
//
// Store kinds and secondary keys:
//
//	gamesession:   id the game session ARN; K1 <fleetId>/<location>, K2 status, K3 <fleetId>/<creatorId>
//	playersession: id psess-<32 hex digits: creation time, 80 random bits>; K1 <game session ARN>|<status>, K2 player id, K3 status
//
// Timeouts are evaluated on read as well as by the sweeper (Sweep, run by
// Run every second): a RESERVED player session older than the reservation
// timeout reads as TIMEDOUT, and an ACTIVATING game session past its
// activation deadline reads as ERROR, even before the sweeper has
// persisted the change and written its event. So a test that advances a
// fake clock sees the new status at once. A reservation is also stored as
// TIMEDOUT, with its PlayerSessionTimedOut event, at its exact deadline: the
// replica that made it arms a timer on the injected clock, and RunTimeouts
// arms the stored ones when a replica starts; the sweep remains the
// backstop for a timer lost with a stopped process.
//
// Muster decisions: a process hosts one game session in its life (the
// server SDK keeps the first game session id for good); CreateGameSession
// without Location uses the fleet's location when it has exactly one; an
// activation timeout leaves the game session in ERROR with fleet event
// GAME_SESSION_ACTIVATION_TIMEOUT and tells the process to terminate.
package session
