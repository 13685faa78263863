// Package placement owns game session queues and game session placements:
// choosing, for a placement request, the fleet location where every player
// has a good connection at the lowest cost and where a server process is
// free, reserving that process, and retrying until capacity frees up or the
// queue's timeout passes. GameLift's semantics are summed up in
// docs/control-api.md, "Queue placement"; this comment lists Muster's
// choices.
//
// Store kinds and secondary keys:
//
//	gamesessionqueue: id the queue name
//	placement:        id the PlacementId; K1 status, K2 queue name
//
// A placement is recorded PENDING (StartIn, inside the caller's transaction,
// or StartGameSessionPlacement) and picked up by the placer after commit.
// Workers (Config.Workers) take queued placements in batches (Config.Batch).
// An attempt first reads, outside any write: the placement and its version,
// the queue, the candidates in order, and whether each candidate has an
// idle process (fleet.HasIdleProcess). A placement none of whose candidates
// has one waits without writing. The others are placed in one write
// transaction: for each, claim an idle process of the best candidate
// (session.Service.CreateGameSessionIn: game session and player sessions)
// and record it on the placement, still PENDING, with the version read.
// When the game session becomes ACTIVE, the session service's transaction
// (GameSessionSettled, its OnSettled hook) writes the placement FULFILLED,
// appends PlacementFulfilled and runs the listeners (Config.Listeners;
// matchmaking is one). So a process is never given to
// two placements (store updates are serialised), a placement stopped
// meanwhile is never fulfilled (the version check fails the transaction and
// each placement is retried alone), and a crash can neither lose a
// placement nor fulfil it twice: at start the placer resumes every PENDING
// placement from the store.
//
// Waiting placements retry after RetryInterval (1 s), then 2 and 4
// RetryIntervals apart while they keep finding no process (past capacity
// the retries of a whole backlog each second were most of the placer's
// work), or sooner when a latency policy relaxes or the deadline comes, on
// the injected clock; and
// when a server process becomes ready (or healthy again) the fleet service's
// capacity hook wakes the oldest few waiting placements at once
// (CapacityAvailable), so a match waiting for a process starts as soon as
// one is there.
//
// Candidates: the queue's destinations in order (aliases resolved; a
// TERMINAL or missing alias, a missing or non-ACTIVE fleet are skipped),
// each with every location of its fleet, minus those outside
// FilterConfiguration.AllowedLocations. With PlayerLatencies, the latency
// policy in force for the placement's age drops every location where
// some player's latency is above its cap. Candidates are ordered by the
// priority order and tried in turn; when none has an idle process
// the placement waits for its next retry (or until the next latency
// policy or its deadline, whichever is first) on the injected clock and
// tries again.
//
// Muster decisions:
//   - A placement is FULFILLED when its game session is ACTIVE, as in
//     GameLift; until then it is PENDING (its connection information is
//     hidden) and its deadline applies. A game session that ends before it
//     is ACTIVE fails the placement (FAILED), it is not placed again: its
//     game session id is the PlacementId.
//   - With PlayerLatencies, a location for which one of the players who
//     reported latencies has no entry is treated as exceeding every cap
//     while a latency policy is in force, and ranks after every location
//     with full data on LATENCY.
//   - Locations missing from LocationOrder rank after the listed ones,
//     alphabetically; without LocationOrder, LOCATION ranks alphabetically.
//     COST is the fleet's AnywhereConfiguration.Cost (absent = 0).
//   - PriorityConfigurationOverride: the override's locations are tried
//     first in its order; with DEFAULT_AFTER_SINGLE_PASS the queue's normal
//     ordering of the other locations follows in the same attempt, with
//     NONE only the override's locations are ever tried.
//   - The game session id of a placement is its PlacementId
//     (…:gamesession/<fleet>/<location>/<PlacementId>).
//   - Admission (admission.go): StartIn, matchmaking's path, refuses a new
//     placement with FleetCapacityExceeded when more than
//     Config.AdmitWaiting (64) of the queue's placements wait for a server
//     process and, at the rate the queue placed game sessions over the last
//     10 s, they would not all be placed within its timeout; matchmaking
//     fails that match's tickets with the reason. StartGameSessionPlacement
//     is never refused, as in GameLift. AdmitTicket, matchmaking's door,
//     refuses a new ticket on the same figures once they would take more
//     than a quarter of the timeout. StopIn cancels a placement whose
//     players all gave up (matchmaking's PLACING cancel) unless its game
//     session exists.
//   - TimeoutInSeconds defaults to 600 s; it is fixed for a placement when
//     it starts. DeleteGameSessionQueue fails (FAILED) the queue's PENDING
//     placements that have no game session yet in its own transaction, so
//     their events carry the queue's CustomEventData; a placement whose
//     game session exists has left the queue and waits for it. The
//     placements are found under K1 PENDING: no key holds queue and status
//     together, and a queue's placements of all time (K2) only grow.
//   - StartGameSessionPlacement with a PlacementId that exists answers that
//     placement as it is now when the request is the same (queue, by name
//     or ARN, and every member), so an SDK's retry of a call whose answer
//     was lost is harmless; with other parameters it is refused
//     (InvalidRequest naming PlacementId). StartIn, matchmaking's path,
//     takes an existing PlacementId as done whatever its parameters.
//   - UpdateGameSessionQueue with an empty FilterConfiguration (no
//     AllowedLocations) or an empty PriorityConfiguration (neither list)
//     removes it, as GameLift documents; CreateGameSessionQueue keeps the
//     Smithy bounds (1 to 100 AllowedLocations).
//   - Placement events go to the outbox as EventBridge documents (gamelift.Envelope)
//     with resources [queue ARN]; detail.port is a string as in GameLift's
//     example, and the queue's CustomEventData is detail.customEventData.
//
// With replicas sharing a PostgreSQL store the placer runs under the lease
// "placer" (RunLeased): its write transactions check the lease's epoch;
// placements started and processes freed on other replicas reach it as
// wakes over the bus (Config.Bus, package relay), and it looks for
// PENDING placements it has not heard of every two seconds.
package placement
