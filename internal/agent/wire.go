package agent

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
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

// RuntimeConfiguration is GameLift's RuntimeConfiguration.
type RuntimeConfiguration struct {
	ServerProcesses                     []ServerProcess `json:"ServerProcesses"`
	MaxConcurrentGameSessionActivations int32           `json:"MaxConcurrentGameSessionActivations,omitempty"`
	GameSessionActivationTimeoutSeconds int32           `json:"GameSessionActivationTimeoutSeconds,omitempty"`
}

// ServerProcess is one line of a runtime configuration: run
// ConcurrentExecutions copies of LaunchPath with Parameters.
type ServerProcess struct {
	LaunchPath           string `json:"LaunchPath"`
	Parameters           string `json:"Parameters,omitempty"`
	ConcurrentExecutions int32  `json:"ConcurrentExecutions"`
}

// HeartbeatRequest is the body of the Muster heartbeat
// (POST /v1/admin/fleets/{fleetId}/computes/{computeName}/heartbeat).
type HeartbeatRequest struct {
	Draining  bool            `json:"draining"`
	Processes []ProcessReport `json:"processes"`
	Beacon    *BeaconAddress  `json:"beacon,omitempty"`
}

// ProcessReport describes one process the agent runs.
type ProcessReport struct {
	ProcessID  string `json:"processId"`
	PID        int    `json:"pid"`
	LaunchPath string `json:"launchPath"`
	Parameters string `json:"parameters"`
	StartedAt  string `json:"startedAt"`
}

// BeaconAddress is where the agent's latency beacon answers.
type BeaconAddress struct {
	Domain string `json:"domain"`
	Port   int    `json:"port"`
}

// HeartbeatResponse is the control plane's answer to a heartbeat.
type HeartbeatResponse struct {
	ComputeStatus              string               `json:"computeStatus"`
	HeartbeatIntervalSeconds   int                  `json:"heartbeatIntervalSeconds"`
	ProcessReadyTimeoutSeconds int                  `json:"processReadyTimeoutSeconds"`
	RuntimeConfiguration       RuntimeConfiguration `json:"runtimeConfiguration"`
	Processes                  []ProcessStatus      `json:"processes"`
}

// ProcessStatus is what the control plane knows of one process.
type ProcessStatus struct {
	ProcessID string `json:"processId"`
	Status    string `json:"status"`
	// GameSessionID is optional (not in the contract yet): when the control
	// plane sends it, the agent never stops a process hosting a game session
	// just because the runtime configuration shrank.
	GameSessionID string `json:"gameSessionId,omitempty"`
	// Kill, on a TERMINATED process, asks for it to be killed at once: its
	// game session was force-terminated (TerminateGameSession
	// FORCE_TERMINATE) or it failed its health checks; EndReason says which.
	Kill      bool   `json:"kill,omitempty"`
	EndReason string `json:"endReason,omitempty"`
}

// Process statuses of the heartbeat answer.
const (
	StatusPending     = "PENDING"
	StatusActive      = "ACTIVE"
	StatusTerminating = "TERMINATING"
	StatusTerminated  = "TERMINATED"
)

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
