package cli

import (
	"cmp"
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

const keysCreateUsage = `muster keys create [--role admin|read-only] [--description TEXT]
muster keys create --role agent --fleet FLEET_ID [--compute NAME|PREFIX*] [--description TEXT]

An agent key is what each host's muster agent should run with: bound to one
fleet (and optionally one compute name or prefix), it may only call
RegisterCompute, GetComputeAuthToken, DescribeRuntimeConfiguration,
DeregisterCompute and the agent heartbeat for its own computes; anything else
is refused (AccessDenied / 403). A game host that is compromised then holds no
key to the rest of the control plane.`

func runKeysCreate(ctx context.Context, env Env, args []string) int {
	fs, common := commonFlagSet("keys create")
	role := fs.String("role", "admin", "`role` of the new key: admin (everything), read-only (reads only) or agent (a host agent's: only its own fleet's computes, --fleet)")
	desc := fs.String("description", "", "what the key is for")
	fleetID := fs.String("fleet", "", "fleet `id` an agent key is bound to (required with --role agent): it may register, heartbeat, get auth tokens for and deregister that fleet's computes and read its runtime configuration, nothing else")
	compute := fs.String("compute", "", "binds an agent key to one compute `NAME`, or to the compute names starting with PREFIX when given as PREFIX* (default: any compute of --fleet)")
	if ok, code := Parse(fs, env, keysCreateUsage, args); !ok {
		return code
	}
	spec := identity.KeySpec{Role: auth.Role(*role), Description: *desc, FleetID: *fleetID, ComputeName: *compute}
	return withKeys(ctx, env, "create", *common, func(keys *identity.OperatorKeys) error {
		key, sec, err := keys.CreateKey(ctx, spec)
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
			role := string(k.Role)
			if k.Role == auth.RoleAgent { // what the key is bound to is what it may do
				role += " " + k.FleetID + "/" + cmp.Or(k.ComputeName, "*")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.AccessKeyID, role, state, k.CreatedAt.Format("2006-01-02T15:04:05Z"), k.Description)
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
