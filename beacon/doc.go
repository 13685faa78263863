// Package beacon is Muster's latency beacon: a tiny UDP echo protocol that
// every host agent answers for its location, so that game clients (and
// Muster's own tools) can measure their round-trip time to each location and
// send it with matchmaking or placement requests.
//
// The wire format is in docs/beacon-protocol.md. A datagram is 14 bytes:
//
//	"MSTR" | version (1 = 0x01) | type (0x01 ping, 0x02 pong) | nonce (8 bytes)
//
// A beacon answers each valid ping with a pong carrying the same version and
// nonce, and never answers anything else (so two beacons cannot be made to
// bounce datagrams between each other, and a reply is never larger than the
// request that caused it).
//
// Server runs a beacon on a net.PacketConn; Measure (or a Pinger, for an
// injected clock) measures round-trip times to one.
package beacon
