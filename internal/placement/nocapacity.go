package placement

// OnNoCapacity sets a hook called when an attempt finds a placement none of
// whose candidates has an idle server process, so that capacity can be
// added at once (the capacity service evaluates its scaling policies). It
// is a setter because the capacity service is built on this one. The hook
// must not block.
func (s *Service) OnNoCapacity(h func()) { s.noCapacity.Store(&h) }

// reportNoCapacity calls the hook when a placement of the attempt waits for
// a process (not for its game session's activation).
func (s *Service) reportNoCapacity(ws []work) {
	h := s.noCapacity.Load()
	if h == nil {
		return
	}
	for _, wk := range ws {
		if wk.wait && !wk.activating && !wk.skip && wk.q != nil {
			(*h)()
			return
		}
	}
}
