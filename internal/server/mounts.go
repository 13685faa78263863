package server

// capabilityMounts lists the mount functions of the capabilities beyond the
// core. Each capability keeps its wiring in its own file of this package
// (identity.go, hosting.go, matchmaking.go, placement.go) and adds one line
// here. The order is the order of construction: a service is built after
// the services it needs (the SDK endpoint serves backfill with
// matchmaking, so it comes last).
func capabilityMounts(s *Server) []func(*deps) {
	return []func(*deps){s.mountIdentity, s.mountHosting, s.mountPlacement, s.mountCapacity, s.mountPush, s.mountMatchmaking, s.mountWebhooks, s.mountSDKEndpoint, s.mountLeases, s.mountShedding}
}
