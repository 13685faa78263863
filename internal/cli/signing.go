package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/backend"
)

// openDataDir opens the store (--store, else the data directory's SQLite
// file) and the master-key box of a data directory, for the commands that
// work on a server's data offline.
func openDataDir(ctx context.Context, c commonFlags) (store.Store, *secret.Box, error) {
	if err := c.requireDataDir(); err != nil {
		return nil, nil, err
	}
	key, err := c.parseMasterKey()
	if err == nil && key == nil {
		key, _, err = secret.LoadOrCreateKeyFile(filepath.Join(c.dataDir, "master.key"))
	}
	if err != nil {
		return nil, nil, err
	}
	box, err := secret.NewBox(key)
	if err != nil {
		return nil, nil, err
	}
	db, err := backend.Open(ctx, backend.Config{URL: c.storeURL, DataDir: c.dataDir})
	if err != nil {
		return nil, nil, err
	}
	return db, box, nil
}

// requireDataDir refuses a data directory that does not exist when the
// command needs it (for the master key or the default store): these
// commands work on a server's data, and a fresh directory made for a typo,
// or for the default ./muster-data run from the wrong folder, would show
// empty lists and make keys with a master key no server uses. `muster
// serve` alone makes a data directory.
func (c commonFlags) requireDataDir() error {
	if c.masterKey.value != "" && c.storeURL != "" {
		return nil
	}
	st, err := os.Stat(c.dataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--data-dir: %s: no such directory; run muster serve first or point at its data directory", c.dataDir)
	case err != nil:
		return fmt.Errorf("--data-dir: %w", err)
	case !st.IsDir():
		return fmt.Errorf("--data-dir: %s: not a directory", c.dataDir)
	}
	return nil
}

// runKeysRotateSigning is `muster keys rotate-signing`: a new key is
// published and trusted at once and signs player access tokens from
// identity.KeyActivationDelay on (5 min 10 s: every replica, and every
// verifier caching the JWKS, knows it by then); the old ones keep verifying
// the tokens they signed until those expire.
func runKeysRotateSigning(ctx context.Context, env Env, args []string) int {
	fs, common := commonFlagSet("keys rotate-signing")
	alg := fs.String("token-signing-alg", "EdDSA", "`algorithm` of the new key: EdDSA or ES256")
	if ok, code := Parse(fs, env, "muster keys rotate-signing [--token-signing-alg EdDSA|ES256]", args); !ok {
		return code
	}
	if *alg != string(jose.EdDSA) && *alg != string(jose.ES256) {
		fmt.Fprintf(env.Stderr, "muster keys rotate-signing: --token-signing-alg: %q is not EdDSA or ES256\n", *alg)
		return ExitUsage
	}
	db, box, err := openDataDir(ctx, *common)
	if err != nil {
		fmt.Fprintln(env.Stderr, "muster keys rotate-signing:", err)
		return 1
	}
	defer db.Close()
	kid, err := (&identity.SigningKeys{Store: db, Box: box, Alg: jose.SignatureAlgorithm(*alg)}).Rotate(ctx)
	if err != nil {
		fmt.Fprintln(env.Stderr, "muster keys rotate-signing:", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "new signing key %s (%s): published now, signing in %s; earlier keys verify their tokens until those expire\n",
		kid, *alg, identity.KeyActivationDelay)
	return 0
}
