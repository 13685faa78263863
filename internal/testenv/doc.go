// Package testenv owns what end-to-end tests share: the real muster binary
// and the examples/arena game server, built once per source tree for every
// test process (see Build); `muster serve` started on a free port with a
// data directory (Start); `muster agent` run against it (StartAgent); and
// clients for it (the real AWS SDK GameLift client, SigV4-signed raw
// requests, bearer requests); the fleets and matchmaking configurations
// tests play on (CreateArenaFleet, CreateMatchmaking); and the test game
// server on the official Go server SDK, driven line by line
// (StartSDKGameServer), with the Anywhere fleet it joins (CreateSDKFleet).
// Only tests import it.
package testenv
