package identity

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/musterhq/muster/internal/auth"
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
func (k *OperatorKeys) Bootstrap(ctx context.Context, dataDir, envID, envSecret string) (BootstrapResult, error) {
	n, err := k.Count(ctx)
	if err != nil {
		return BootstrapResult{}, err
	}
	if n > 0 {
		return BootstrapResult{}, nil
	}
	if envID != "" || envSecret != "" {
		if envID == "" || envSecret == "" {
			return BootstrapResult{}, fmt.Errorf("set both MUSTER_ADMIN_ACCESS_KEY_ID and MUSTER_ADMIN_SECRET_ACCESS_KEY, or neither")
		}
		if _, err := k.CreateWithSecret(ctx, envID, envSecret, auth.RoleAdmin, "bootstrap admin key (environment)"); err != nil {
			return BootstrapResult{}, err
		}
		return BootstrapResult{Created: true, AccessKeyID: envID}, nil
	}
	key, sec, err := k.Create(ctx, auth.RoleAdmin, "bootstrap admin key (generated)")
	if err != nil {
		return BootstrapResult{}, err
	}
	path := filepath.Join(dataDir, "admin-credentials")
	body := fmt.Sprintf("# Muster's first admin access key. Keep this file secret.\nMUSTER_ACCESS_KEY_ID=%s\nMUSTER_SECRET_ACCESS_KEY=%s\n", key.AccessKeyID, sec)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return BootstrapResult{}, fmt.Errorf("write admin credentials: %w", err)
	}
	return BootstrapResult{Created: true, AccessKeyID: key.AccessKeyID, CredentialsFile: path}, nil
}
