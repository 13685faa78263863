package cli

import (
	"flag"

	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/server"
)

// registerCapacityFlags adds the flags of fleet capacity: the provisioners
// (only ever from the operator's configuration, never the API), the
// scale-in cool-down and the agents' heartbeat interval.
func registerCapacityFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.CapacityProvisioners, "capacity-provisioners", "", "JSON `object` from custom location to the provisioner that adds and removes its hosts for UpdateFleetCapacity and scaling policies: {\"kind\":\"local\"} (muster agent processes on this machine), {\"kind\":\"exec\",\"command\":[\"/path/to/script\"],\"timeout\":\"60s\"} or {\"kind\":\"webhook\",\"url\":\"https://…\",\"secret\":\"whsec_…\"} (docs/control-api.md, \"Capacity\")")
	fs.DurationVar(&cfg.CapacityScaleInCooldown, "capacity-scale-in-cooldown", capacity.DefaultScaleInCooldown, "how long after a scaling policy changed a location's capacity no policy lowers it (damps flapping)")
	fs.DurationVar(&cfg.AgentHeartbeatInterval, "agent-heartbeat-interval", fleet.DefaultHeartbeatInterval, "how often host agents heartbeat; a compute silent for three intervals is lost")
}
