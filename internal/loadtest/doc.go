// Package loadtest owns Muster's own load tools: a closed-loop runner that
// keeps N requests in flight for a duration and reports throughput and
// latency percentiles, and request makers for the control API in both
// codecs; the whole-flow driver (RunFlow), whose bots walk the player flow
// as game clients do — sign-in, player record, ticket, match, placement,
// joining the game server and being validated — and report each phase's
// latency, failures by kind and the players/s sustained; and SimHost, game
// servers simulated at the protocol level (the Server SDK 5 WebSocket and
// the example arena's player protocol) for measuring the control plane
// without an operating-system process per match. `muster loadtest` drives
// them against a running server; benchmarks and end-to-end tests use them
// in process.
package loadtest
