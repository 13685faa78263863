package cli

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/musterhq/muster/internal/loadtest"
)

func runLoadtestControl(ctx context.Context, env Env, args []string) int {
	fs, o := operatorFlagSet("loadtest control", true)
	op := fs.String("op", "ListLocations", "operation: ListLocations (read) or CreateLocation (durable write)")
	codec := fs.String("codec", "cbor", "wire protocol: cbor (Smithy RPC v2, Go SDK) or json (AWS JSON 1.1)")
	concurrency := fs.Int("concurrency", 64, "requests in flight")
	duration := fs.Duration("duration", 10*time.Second, "how long to run")
	keep := fs.Bool("keep", false, "with --op CreateLocation: keep the locations the run made (default: delete them afterwards)")
	if ok, code := Parse(fs, env, "muster loadtest control [flags]", args); !ok {
		return code
	}
	var checks flagChecks
	o.checkKey(&checks)
	checks.check(*op == "ListLocations" || *op == "CreateLocation", "--op", *op, "must be ListLocations or CreateLocation")
	checks.check(*codec == "cbor" || *codec == "json", "--codec", *codec, "must be cbor or json")
	checks.check(*concurrency >= 1, "--concurrency", strconv.Itoa(*concurrency), "must be at least 1")
	checks.check(*duration > 0, "--duration", duration.String(), "must be above 0")
	if checks.report(env.Stderr, "muster loadtest control") {
		return ExitUsage
	}
	c := loadtest.NewControlClient(o.endpoint, o.region, aws.Credentials{AccessKeyID: o.keyID, SecretAccessKey: o.secret}, *codec == "cbor", *concurrency)
	runID := time.Now().UnixNano() % 1_000_000_000
	do := func(ctx context.Context, _, _ int) error {
		return c.Call(ctx, "ListLocations", map[string]any{"Limit": 10})
	}
	made := make([][]string, *concurrency) // by worker: no lock on the hot path
	if *op == "CreateLocation" {
		do = func(ctx context.Context, worker, seq int) error {
			name := fmt.Sprintf("custom-lt-%d-%d-%d", runID, worker, seq)
			// A call cut off by the end of the run may have made its
			// location all the same: count it made.
			made[worker] = append(made[worker], name)
			return c.Call(ctx, "CreateLocation", map[string]any{"LocationName": name})
		}
	}
	res := loadtest.Run(ctx, *concurrency, *duration, do)
	res.Print(env.Stdout, fmt.Sprintf("%s over %s", *op, *codec), *concurrency)
	if *op == "CreateLocation" && !*keep {
		n := deleteLocations(ctx, c, slices.Concat(made...), *concurrency)
		fmt.Fprintf(env.Stdout, "deleted the %d locations the run made\n", n)
	}
	if res.Errors > 0 {
		return 1
	}
	return 0
}

// deleteLocations deletes the named locations, concurrency at a time, and
// says how many it deleted; a name whose creation failed is refused as not
// found, which is expected.
func deleteLocations(ctx context.Context, c *loadtest.ControlClient, names []string, concurrency int) int {
	var next, deleted atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(names)) && ctx.Err() == nil; i = next.Add(1) - 1 {
				if c.Call(ctx, "DeleteLocation", map[string]any{"LocationName": names[i]}) == nil {
					deleted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(deleted.Load())
}
