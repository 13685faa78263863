// Package locations serves GET /v1/locations, the list of locations and
// their latency beacons that game clients ping before asking for a match
// (docs/beacon-protocol.md), and MeasureAll, a client helper that fetches
// the list and measures the round-trip time to every location.
//
// The route is public (no credentials), like the beacons themselves: a
// client measures its latencies before it signs in, and the list holds
// nothing but location names and UDP endpoints. It is rate limited per IP
// like the rest of the player API's public routes.
package locations
