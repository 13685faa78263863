package identity

import (
	"context"
	"sync"

	"github.com/musterhq/muster/internal/auth"
)

// TransientKey is an admin key that lives only as long as one run of the
// server: the key of the agents the server starts itself (a local
// capacity provisioner's, dev mode's). It is created when first needed and
// revoked when the run ends, so no credential of a past run stays valid.
type TransientKey struct {
	Keys *OperatorKeys
	// Description is the key's description, saying who uses it.
	Description string

	mu         sync.Mutex
	id, secret string
}

// Get returns the key's id and secret, creating the key on the first call.
func (k *TransientKey) Get(ctx context.Context) (id, secret string, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.id == "" {
		key, secret, err := k.Keys.Create(ctx, auth.RoleAdmin, k.Description)
		if err != nil {
			return "", "", err
		}
		k.id, k.secret = key.AccessKeyID, secret
	}
	return k.id, k.secret, nil
}

// Revoke revokes the key if it was created; a Get after it creates a new
// one.
func (k *TransientKey) Revoke(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.id == "" {
		return nil
	}
	if err := k.Keys.Revoke(ctx, k.id); err != nil {
		return err
	}
	k.id, k.secret = "", ""
	return nil
}
