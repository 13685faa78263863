package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/loadtest"
	"github.com/musterhq/muster/internal/server"
)

// simFlags are `muster loadtest flow`'s flags for simulated game servers.
type simFlags struct {
	slots           int
	fleet, location string
}

// startSimHost registers a compute of simulated game servers (see
// loadtest.SimHost) in the fleet (by id, or the fleet named "dev" that
// serve --dev makes) for the run; Close deregisters it.
func startSimHost(ctx context.Context, cfg loadtest.FlowConfig, f simFlags, log *slog.Logger) (*loadtest.SimHost, error) {
	if cfg.AccessKeyID == "" {
		return nil, fmt.Errorf("--simulate-servers needs an operator key (MUSTER_ACCESS_KEY_ID, MUSTER_SECRET_ACCESS_KEY) to register the compute")
	}
	c := loadtest.NewControlClient(cfg.Endpoint, server.DefaultRegion, aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey}, false, 8)
	fleetID := f.fleet
	if fleetID == "" {
		var out gamelift.DescribeFleetAttributesOutput
		if err := c.Do(ctx, "DescribeFleetAttributes", gamelift.DescribeFleetAttributesInput{}, &out); err != nil {
			return nil, err
		}
		for _, fa := range out.FleetAttributes {
			if fa.Name == devFleetName {
				fleetID = fa.FleetId
			}
		}
		if fleetID == "" {
			return nil, fmt.Errorf("--sim-fleet: no fleet named %q to add simulated game servers to; name one", devFleetName)
		}
	}
	compute := fmt.Sprintf("loadtest-sim-%d", time.Now().UnixNano()%1_000_000_000)
	return loadtest.StartSimHost(ctx, c, fleetID, f.location, compute, f.slots, log)
}
