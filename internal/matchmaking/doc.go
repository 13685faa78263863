// Package matchmaking owns FlexMatch matchmaking as a service: rule sets and
// matchmaking configurations on the GameLift control API, matchmaking and
// backfill tickets with their statuses, player acceptance, the matching loop
// that runs a flexmatch.Engine per configuration, the FlexMatch events of
// every status change (written to the store's outbox in the transaction that
// makes the change), parties and the player-facing ticket operations.
//
// Store kinds and secondary keys:
//
//	mmruleset:  id the rule set name
//	mmconfig:   id the configuration name; K1 the rule set name
//	mmticket:   id the ticket id; K1 the configuration name while the ticket
//	            is not terminal; K2 the match id once matched; K3 the game
//	            session ARN of an active backfill ticket
//	mmactive:   id <configuration>/<player id>: the player's active ticket in
//	            that configuration (one at a time); created with the ticket,
//	            deleted when it ends
//	mmmatch:    id the match id; K1 the configuration name while acceptance
//	            is pending; K2 the configuration name while placing
//	mmparty:    id the party id
//	mmmember:   id an identity id: the party it belongs to
//	mmwait:     id the configuration name: the mean wait its pool's owner
//	            shares with the other replicas (expires after 10 min)
//
// Terminal tickets and finished matches are kept for Config.TicketRetention
// (default 1 h, store ExpiresAt) and then disappear.
//
// # The loop
//
// Each configuration has a pool: a flexmatch.Engine over the
// configuration's waiting tickets, rebuilt from the store at start
// (SEARCHING tickets keep their start times, so expansions and timeouts
// continue where they were). A pass of the pool has two steps:
//
//   - decide (decide.go) works on the pool's memory and the time alone: it
//     takes the tickets handed to the pool since the last pass, ends those
//     past their request timeout, fills backfill requests and runs the
//     engine (which applies expansions from the tickets' ages). Its result
//     is the decisions: tickets now SEARCHING, tickets timed out, matches
//     proposed.
//   - record (record.go) writes the decisions in one store transaction with
//     their events, checking each ticket's stored status first: a ticket
//     cancelled while the pass ran spoils only its own match, whose other
//     tickets go back to the pool. A crash before the commit leaves every
//     ticket as it was (and the restarted pool takes them again); after it,
//     the match is recorded once.
//
// A pass runs as soon as tickets arrive and at least every
// Config.CycleInterval (default 250 ms), on the pool's goroutine; arrivals
// during a pass are taken by the next. Service.Process runs a pass at once
// on the caller's goroutine (passes never overlap), which is how tests
// drive the loop without waiting for it.
//
// A WITH_QUEUE match is placed by the placement service (Config.Placer,
// docs/matchmaking-placement.md), a backfill match reserved into its game
// session; either way one function (complete, complete.go) records the
// placed match: tickets COMPLETED with their connection and player
// sessions, MatchmakingSucceeded, and with AUTOMATIC backfill the ticket
// auto-backfill-<match id>.
//
// # Several replicas (replicas.go)
//
// With Config.Leases (replicas sharing a PostgreSQL store), each
// configuration is a piece of work, lease "matchmaking/<name>", and only
// the replica holding the lease runs its pool: it rebuilds the pool from
// the store when it takes the lease, resumes its pending matches, and each
// pass's transaction checks the lease's epoch (lease.Check), so a replica
// paused past its lease records nothing and stops the pool. Any replica
// serves any request: a ticket written where the pool does not run is
// stored as usual and its id goes, after commit, over the bus (Config.Bus,
// through package relay) to the owner, which reads it from the store;
// every two seconds the owner also catches up with the waiting tickets it
// does not know, in case a message was lost. Validation reads the
// configuration and its rule set from the store (rule sets parsed once per
// version); explain names the replica running the pool when it is not
// this one. The pool's owner writes its mean wait to the store every 5 s
// when it changed, and the other replicas give it as EstimatedWaitTime
// (waitshare.go).
//
// # Muster decisions (docs/flexmatch.md)
//
//   - A player already in an active ticket of a configuration cannot start a
//     second one there: InvalidRequestException.
//   - A TicketId that already exists (active or retained) is idempotent when
//     the request is the same (same configuration and players): the existing
//     ticket is returned; otherwise InvalidRequestException.
//   - STANDALONE matches skip PLACING. A rejection ends an acceptance round at
//     once. A ticket cancelled while its match awaits acceptance fails the
//     proposal; the other tickets go back to SEARCHING.
//   - StatusReason values are those of docs/flexmatch.md, "Tickets".
//   - EstimatedWaitTime is the mean wait of tickets matched in the last 10
//     minutes, given once there are 5 samples.
//   - Backfill of a game session drops players whose player session is
//     COMPLETED or TIMEDOUT before matching.
package matchmaking
