package matchmaking

import "context"

// Settle waits until a configuration's pool has finished the cycle that
// takes everything handed to it so far.
func (s *Service) Settle(ctx context.Context, config string) error {
	p := s.pool(config)
	if p == nil {
		return nil
	}
	for range 2 {
		if err := p.call(ctx, func() {}); err != nil {
			return err
		}
	}
	return nil
}
