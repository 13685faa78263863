package identity

import (
	"encoding/json"
	"fmt"
)

// RevocationKinds are the store kinds revocations are read from.
var RevocationKinds = []string{kindRevocation, kindRevokedSession}

// RevokedSessions is how many revoked sessions this process remembers.
func (s *Service) RevokedSessions() int { return s.revoked.len() }

// SignClaims signs claims with the key that signs now, so that a test can
// make tokens that IssueAccessToken never would.
func (s *Service) SignClaims(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := s.ring.Load().signerAt(s.cfg.Clock.Now()).signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return obj.CompactSerialize()
}
