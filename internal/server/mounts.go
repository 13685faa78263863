package server

// capabilityMounts lists the mount functions of the capabilities beyond the
// core. Each capability keeps its wiring in its own file of this package
// (identity.go, hosting.go, matchmaking.go, placement.go) and adds one line
// here.
func capabilityMounts(s *Server) []func(*deps) {
	return []func(*deps){s.mountIdentity, s.mountHosting, s.mountPlacement, s.mountMatchmaking}
}
