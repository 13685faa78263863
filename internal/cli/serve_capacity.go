package cli

import (
	"flag"
	"fmt"
	"math"
	"strconv"

	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/server"
)

// registerCapacityFlags adds the flags of fleet capacity: the provisioners
// (only ever from the operator's configuration, never the API), the limit
// on a location's instances, the scale-in cool-down and the agents'
// heartbeat interval.
func registerCapacityFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.CapacityProvisioners, "capacity-provisioners", "", "JSON `object` from custom location to the provisioner that adds and removes its hosts for UpdateFleetCapacity and scaling policies: {\"kind\":\"local\"} (muster agent processes on this machine), {\"kind\":\"exec\",\"command\":[\"/path/to/script\"],\"timeout\":\"60s\"} or {\"kind\":\"webhook\",\"url\":\"https://…\",\"secret\":\"whsec_…\"} (docs/control-api.md, \"Capacity\")")
	cfg.CapacityMaxInstances = fleet.DefaultMaxInstances
	fs.Var(maxInstances{&cfg.CapacityMaxInstances}, "capacity-max-instances",
		"most `computes` (GameLift's instances) one fleet location may be set to: UpdateFleetCapacity with DesiredInstances, MinSize or MaxSize above it is refused with LimitExceededException, scaling policies raise no location above it, and no provisioner is asked for hosts beyond it (so a mistyped count cannot ask for billions)")
	fs.DurationVar(&cfg.CapacityScaleInCooldown, "capacity-scale-in-cooldown", capacity.DefaultScaleInCooldown, "how long after a scaling policy changed a location's capacity no policy lowers it (damps flapping)")
	fs.DurationVar(&cfg.AgentHeartbeatInterval, "agent-heartbeat-interval", fleet.DefaultHeartbeatInterval, "how often host agents heartbeat; a compute silent for three intervals is lost")
}

// maxInstances is --capacity-max-instances: a whole number from 1 to the
// largest count UpdateFleetCapacity's int32 members can carry, so that 0 is
// not silently taken for the default (as it is in server.Config).
type maxInstances struct{ n *int }

func (v maxInstances) String() string {
	if v.n == nil {
		return "" // the zero value: -help shows the default only when it differs from this
	}
	return strconv.Itoa(*v.n)
}

func (v maxInstances) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > math.MaxInt32 {
		return fmt.Errorf("must be a whole number from 1 to %d", math.MaxInt32)
	}
	*v.n = n
	return nil
}
