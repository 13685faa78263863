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
//
// Terminal tickets and finished matches are kept for Config.TicketRetention
// (default 1 h, store ExpiresAt) and then disappear.
//
// # The loop
//
// Each configuration has a pool: a goroutine owning a flexmatch.Engine over
// the configuration's waiting tickets, rebuilt from the store at start
// (SEARCHING tickets keep their start times, so expansions and timeouts
// continue where they were). A cycle runs as soon as tickets arrive, and at
// least every Config.CycleInterval (default 250 ms) for expansions and
// timeouts; arrivals during a cycle are batched into the next. One store
// transaction per cycle records everything the cycle decided (QUEUED →
// SEARCHING, timeouts, every match) with its events, checking each ticket's
// stored status first: a ticket cancelled while the cycle ran spoils only its
// own match, whose other tickets go back to the pool. A crash before the
// commit leaves every ticket as it was (and the restarted pool takes them
// again); after it, the match is recorded once.
//
// # Muster decisions (flexmatch.md §7, Appendix A)
//
//   - A player already in an active ticket of a configuration cannot start a
//     second one there: InvalidRequestException (gamelift-api.md §4.12).
//   - A TicketId that already exists (active or retained) is idempotent when
//     the request is the same (same configuration and players): the existing
//     ticket is returned; otherwise InvalidRequestException.
//   - STANDALONE matches skip PLACING. A rejection ends an acceptance round at
//     once. A ticket cancelled while its match awaits acceptance fails the
//     proposal; the other tickets go back to SEARCHING.
//   - StatusReason values follow flexmatch.md §7.5.
//   - EstimatedWaitTime is the mean wait of tickets matched in the last 10
//     minutes, given once there are 5 samples.
//   - Backfill of a game session drops players whose player session is
//     COMPLETED or TIMEDOUT before matching.
package matchmaking
