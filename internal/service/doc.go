// Package service holds what every Muster service is built on: the store
// it keeps its state in, the clock all of its time goes through, its
// logger, and the GameLift naming it answers in (ARNs, member formats,
// tags). A service's Config embeds Base, and its constructor calls
// Base.WithDefaults once, so a service built in a test with only a store
// gets the same defaults as one wired by the server.
package service
