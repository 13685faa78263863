package cli

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/server"
)

// registerCapacityFlags adds the flags of fleet capacity: the provisioners
// (only ever from the operator's configuration, never the API), the limit
// on a location's instances, the scale-in cool-down and the agents'
// heartbeat interval.
func registerCapacityFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.CapacityProvisioners, "capacity-provisioners", "", "JSON `object` from custom location to the provisioner that adds and removes its hosts for UpdateFleetCapacity and scaling policies: {\"kind\":\"local\"} (muster agent processes on this machine), {\"kind\":\"exec\",\"command\":[\"/path/to/script\"],\"timeout\":\"60s\",\"passEnv\":[\"AWS_PROFILE\"]} or {\"kind\":\"webhook\",\"url\":\"https://…\",\"secret\":\"whsec_…\"} (docs/control-api.md, \"Capacity\")")
	cfg.CapacityMaxInstances = fleet.DefaultMaxInstances
	fs.Var(maxInstances{&cfg.CapacityMaxInstances}, "capacity-max-instances",
		"most `computes` (GameLift's instances) one fleet location may be set to: UpdateFleetCapacity with DesiredInstances, MinSize or MaxSize above it is refused with LimitExceededException, scaling policies raise no location above it, and no provisioner is asked for hosts beyond it (so a mistyped count cannot ask for billions)")
	fs.DurationVar(&cfg.CapacityScaleInCooldown, "capacity-scale-in-cooldown", capacity.DefaultScaleInCooldown, "how long after a scaling policy changed a location's capacity no policy lowers it (damps flapping)")
	cfg.AgentHeartbeatInterval = fleet.DefaultHeartbeatInterval
	fs.Var(heartbeatInterval{&cfg.AgentHeartbeatInterval}, "agent-heartbeat-interval",
		"how often host agents heartbeat, in whole seconds of at least 1s; a compute silent for three intervals is lost")
}

// heartbeatInterval is --agent-heartbeat-interval: a duration of whole
// seconds, at least one. The heartbeat answer tells agents the interval in
// whole seconds (heartbeatIntervalSeconds), so a shorter interval reaches
// them as 0, which they ignore, keeping their default of 10 s while the
// control plane takes every compute for lost after three of its own; a
// fraction would be cut likewise, leaving agents heartbeating early or late.
type heartbeatInterval struct{ d *time.Duration }

func (v heartbeatInterval) String() string {
	if v.d == nil {
		return "" // the zero value: -help shows the default only when it differs from this
	}
	return v.d.String()
}

func (v heartbeatInterval) Set(s string) error {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return errors.New("must be a duration such as 10s")
	case d < time.Second:
		return errors.New("must be at least 1s: agents are told the interval in whole seconds")
	case d%time.Second != 0:
		return errors.New("must be whole seconds: agents are told the interval in whole seconds")
	}
	*v.d = d
	return nil
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
