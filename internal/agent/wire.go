package agent

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
)

// Compute is the part of GameLift's Compute that the agent reads.
type Compute struct {
	FleetID                    string `json:"FleetId,omitempty"`
	ComputeName                string `json:"ComputeName,omitempty"`
	ComputeStatus              string `json:"ComputeStatus,omitempty"`
	Location                   string `json:"Location,omitempty"`
	IPAddress                  string `json:"IpAddress,omitempty"`
	DNSName                    string `json:"DnsName,omitempty"`
	GameLiftServiceSdkEndpoint string `json:"GameLiftServiceSdkEndpoint,omitempty"`
}

// RegisterComputeInput is GameLift's RegisterCompute request.
type RegisterComputeInput struct {
	FleetID     string `json:"FleetId"`
	ComputeName string `json:"ComputeName"`
	Location    string `json:"Location,omitempty"`
	IPAddress   string `json:"IpAddress,omitempty"`
	DNSName     string `json:"DnsName,omitempty"`
}

// AuthToken is GetComputeAuthToken's answer.
type AuthToken struct {
	Token     string
	ExpiresAt time.Time
}

// BeaconAddress is where the agent's latency beacon answers, as its
// heartbeat reports it.
type BeaconAddress = agentwire.Beacon

// epochSeconds is a JSON 1.1 timestamp: seconds since the epoch, with an
// optional fraction.
type epochSeconds struct{ time.Time }

func (e *epochSeconds) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	sec, frac := math.Modf(f)
	e.Time = time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
	return nil
}
