// Package servertest runs a whole Muster server (server.New) in the test's
// process behind a loopback httptest server, and reads its HTTP answers:
// for tests of packages whose behaviour is only whole once the server
// wires them together (hooks, the player API).
package servertest
