package cli

import (
	"context"
	"fmt"
	"strconv"
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
	if *op == "CreateLocation" {
		do = func(ctx context.Context, worker, seq int) error {
			return c.Call(ctx, "CreateLocation", map[string]any{"LocationName": fmt.Sprintf("custom-lt-%d-%d-%d", runID, worker, seq)})
		}
	}
	res := loadtest.Run(ctx, *concurrency, *duration, do)
	res.Print(env.Stdout, fmt.Sprintf("%s over %s", *op, *codec), *concurrency)
	if res.Errors > 0 {
		return 1
	}
	return 0
}
