package capacity

// Settle waits for the provisioner calls ReconcileAll started.
func (s *Service) Settle() { s.calls.Wait() }

// CallsPerLocation opens the bound on a location's calls at once to tests.
const CallsPerLocation = callsPerLocation
