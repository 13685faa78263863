package agent

import (
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
)

// AuthToken is GetComputeAuthToken's answer.
type AuthToken struct {
	Token     string
	ExpiresAt time.Time
}

// BeaconAddress is where the agent's latency beacon answers, as its
// heartbeat reports it.
type BeaconAddress = agentwire.Beacon
