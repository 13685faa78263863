package identity

import (
	"context"
	"crypto/subtle"
	"fmt"
	"os"
	"path/filepath"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
)

// BootstrapResult says how the first admin key came to be.
type BootstrapResult struct {
	// Created is false when keys already existed.
	Created     bool
	AccessKeyID string
	// CredentialsFile is set when a generated key was written to disk.
	CredentialsFile string
}

// Bootstrap makes sure an admin key exists on first start. When envID and
// envSecret are set they become the first admin key; otherwise one is
// generated and written, as shell-style assignments, to a 0600 file in
// dataDir. The secret is never logged.
//
// Replicas sharing a store may start at the same instant: the check for
// existing keys and the insert are one transaction, so one replica makes
// the first key and the others find it. A replica whose envID names an
// existing key goes on when envSecret is that key's secret, and refuses to
// start when it is not (or when its master key cannot open the secret).
func (k *OperatorKeys) Bootstrap(ctx context.Context, dataDir, envID, envSecret string) (BootstrapResult, error) {
	if (envID == "") != (envSecret == "") {
		return BootstrapResult{}, fmt.Errorf("set both MUSTER_ADMIN_ACCESS_KEY_ID and MUSTER_ADMIN_SECRET_ACCESS_KEY, or neither")
	}
	sec, description := envSecret, "bootstrap admin key (environment)"
	id := envID
	if id == "" {
		id, sec, description = NewAccessKeyID(), NewSecret(), "bootstrap admin key (generated)"
	}
	key, err := k.newKey(id, sec, KeySpec{Role: auth.RoleAdmin, Description: description})
	if err != nil {
		return BootstrapResult{}, err
	}
	var created bool
	err = k.cfg.Store.Update(ctx, func(w store.Writer) error {
		created = false
		keys, err := all[OperatorKey](ctx, w, kindOperatorKey)
		if err != nil {
			return err
		}
		for _, have := range keys {
			if envID != "" && have.AccessKeyID == envID {
				return k.sameSecret(have, envSecret)
			}
		}
		if len(keys) > 0 {
			return nil
		}
		created = true
		return k.insert(ctx, w, key)
	})
	if err != nil || !created {
		return BootstrapResult{}, err
	}
	if envID != "" {
		return BootstrapResult{Created: true, AccessKeyID: envID}, nil
	}
	path := filepath.Join(dataDir, "admin-credentials")
	body := fmt.Sprintf("# Muster's first admin access key. Keep this file secret.\nMUSTER_ACCESS_KEY_ID=%s\nMUSTER_SECRET_ACCESS_KEY=%s\n", key.AccessKeyID, sec)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return BootstrapResult{}, fmt.Errorf("write admin credentials: %w", err)
	}
	return BootstrapResult{Created: true, AccessKeyID: key.AccessKeyID, CredentialsFile: path}, nil
}

// sameSecret accepts an existing key named by MUSTER_ADMIN_ACCESS_KEY_ID
// when MUSTER_ADMIN_SECRET_ACCESS_KEY is its secret.
func (k *OperatorKeys) sameSecret(have OperatorKey, sec string) error {
	stored, err := k.cfg.Box.Open(have.SealedSecret, have.AccessKeyID)
	if err != nil {
		return fault.New(fault.Conflict, "MUSTER_ADMIN_ACCESS_KEY_ID: access key %s exists, but this server's master key cannot open its secret: every replica sharing a store needs the same master key (--master-key or MUSTER_MASTER_KEY)", have.AccessKeyID)
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(sec)) != 1 {
		return fault.New(fault.Conflict, "MUSTER_ADMIN_SECRET_ACCESS_KEY: access key %s already exists with a different secret; set the secret it was made with, or unset both variables", have.AccessKeyID)
	}
	return nil
}
