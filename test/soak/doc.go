// Package soak holds Muster's soak and fault suite: the real binary, a
// real agent with real game server processes, mixed load through the
// control API and the player API, and faults injected while it runs —
// kill -9 and restart of muster serve, SIGSTOP and SIGCONT, a game server
// host vanishing, a disk that fills. At the end every accepted ticket must
// be in an end state, none matched twice, every event in the outbox once,
// and the SQLite file intact. A steady phase without faults shows memory
// and goroutines flat once ticket retention makes state a steady size.
//
// The tests build only with the soak tag. CI runs a short form, one fault
// of each kind in 22 s (the test fails if -soak.faults leaves no room for
// one of each at -soak.fault-every), with enough game server processes
// that the matches keep up with the load, so the end states come soon
// after it stops:
//
//	go test -tags soak ./test/soak
//
// and a long one runs by hand:
//
//	go test -tags soak ./test/soak -timeout 2h -v \
//	    -soak.faults 30m -soak.fault-every 1m -soak.pause 10s \
//	    -soak.steady 30m -soak.steady-rate 1000
package soak
