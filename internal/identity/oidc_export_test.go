package identity

import "time"

// SetOIDCFetchTimeout shortens the bound on each request to the OIDC
// providers, so that a test of a provider that never answers ends soon. Call
// it before the first sign-in.
func (s *Service) SetOIDCFetchTimeout(d time.Duration) {
	for _, p := range s.oidc {
		p.fetchTimeout = d
	}
}
