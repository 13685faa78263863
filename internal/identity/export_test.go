package identity

import (
	"context"

	"github.com/musterhq/muster/internal/store"
)

// ForgetVerified empties the cache of verified tokens, so a benchmark or
// test can measure or exercise the full signature check.
func (s *Service) ForgetVerified() {
	s.verified.mu.Lock()
	clear(s.verified.entries)
	s.verified.mu.Unlock()
}

// StartSession starts another session of identityID, as a sign-in by
// method would, and returns its refresh token: no sign-in gives a loginless
// anonymous identity a second session.
func (s *Service) StartSession(ctx context.Context, identityID, method string) (string, error) {
	now := s.cfg.Clock.Now().UTC()
	var rt string
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var err error
		_, rt, err = s.startSession(ctx, w, identityID, method, now)
		return err
	})
	return rt, err
}
