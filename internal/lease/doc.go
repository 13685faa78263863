// Package lease gives each piece of background work one owner among the
// control-plane replicas that share a store: a matchmaking configuration's
// pool and loop, the placer, sweeps, event delivery. Leases live in the
// store (kind "lease", id = the piece's name; K1 = the holder replica), so
// the database is the one source of truth, and a replica needs nothing
// else to take part.
//
// A Manager registers the pieces this replica can run. Each Tick (every
// Config.TTL/3 under Run, or called directly by tests, as a direct pass)
// renews the leases it holds, sheds one if it holds more than its fair
// share of the pieces, and takes free or expired leases up to its fair
// share — the number of pieces divided by the replicas alive, each of which
// refreshes a "replica" record (with an expiry) every Tick. A lease whose
// holder died expires after TTL and another replica takes it on its next
// Tick, so with the defaults (TTL 3 s, a Tick a second) a piece moves
// within about 4 s.
//
// Every acquisition increments the lease's epoch. Work started under a
// lease receives it and calls Check inside each write transaction: a
// replica that was paused past its lease (a long GC, SIGSTOP, a network
// partition) and wakes believing it still owns the work finds the epoch
// moved on, and its writes fail with ErrLost instead of acting on stale
// ownership. A holder judges its own lease's expiry by its injected clock;
// another replica never reads that expiry against its own clock, which may
// differ, but takes the lease once it has seen it unrenewed for TTL
// (sighting.go), and counts a replica alive while its record changes.
package lease
