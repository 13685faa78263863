package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/service"
)

// withKeys opens the operator keys of the data directory and runs f on
// them; a failure is printed as the command's and exits 1.
func withKeys(ctx context.Context, env Env, cmd string, c commonFlags, f func(*identity.OperatorKeys) error) int {
	db, box, err := openDataDir(ctx, c)
	if err == nil {
		defer db.Close()
		err = f(identity.NewOperatorKeys(identity.KeysConfig{Base: service.Base{Store: db}, Box: box}))
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "muster keys %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func runKeysCreate(ctx context.Context, env Env, args []string) int {
	fs, common := commonFlagSet("keys create")
	role := fs.String("role", "admin", "`role` of the new key: admin or read-only")
	desc := fs.String("description", "", "what the key is for")
	if ok, code := Parse(fs, env, "muster keys create [--role admin|read-only] [--description TEXT]", args); !ok {
		return code
	}
	return withKeys(ctx, env, "create", *common, func(keys *identity.OperatorKeys) error {
		key, sec, err := keys.Create(ctx, auth.Role(*role), *desc)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "MUSTER_ACCESS_KEY_ID=%s\nMUSTER_SECRET_ACCESS_KEY=%s\n", key.AccessKeyID, sec)
		return nil
	})
}

func runKeysList(ctx context.Context, env Env, args []string) int {
	fs, common := commonFlagSet("keys list")
	if ok, code := Parse(fs, env, "muster keys list", args); !ok {
		return code
	}
	return withKeys(ctx, env, "list", *common, func(keys *identity.OperatorKeys) error {
		list, err := keys.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCESS KEY ID\tROLE\tSTATE\tCREATED\tDESCRIPTION")
		for _, k := range list {
			state := "active"
			if k.Revoked() {
				state = "revoked"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.AccessKeyID, k.Role, state, k.CreatedAt.Format("2006-01-02T15:04:05Z"), k.Description)
		}
		return tw.Flush()
	})
}

func runKeysRevoke(ctx context.Context, env Env, args []string) int {
	fs, common := commonFlagSet("keys revoke")
	if ok, code := Parse(fs, env, "muster keys revoke ACCESS_KEY_ID", args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(env.Stderr, "muster keys revoke: give exactly one ACCESS_KEY_ID")
		return ExitUsage
	}
	return withKeys(ctx, env, "revoke", *common, func(keys *identity.OperatorKeys) error {
		if err := keys.Revoke(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "revoked %s\n", fs.Arg(0))
		return nil
	})
}
