package agentwire

import (
	"time"

	"github.com/musterhq/muster/internal/gamelift"
)

// Heartbeat is the body of an agent heartbeat: the processes the agent runs,
// whether it is draining, the latency beacon it serves, if any, and how
// long a process told to end has before it stops it (DrainGraceSeconds:
// in its drain, or TERMINATING in a reply), which is the TerminationTime
// the control plane gives them. Exited lists processes that exited with status 0 since the
// last answered heartbeat soon after their launch: the control plane ends
// them at once and answers how each ended, which tells the agent whether the
// exit was a game server's clean end or a crash. InstanceID names the
// agent process that sends it (a random id each agent draws when it
// starts): the control plane lets one agent at a time run a compute, and
// refuses another's heartbeats with 409 while the compute is live, so two
// hosts given one compute name do not each end the processes the other
// reports. Agents that send none are accepted as before.
type Heartbeat struct {
	InstanceID        string    `json:"instanceId,omitempty"`
	Draining          bool      `json:"draining"`
	DrainGraceSeconds int       `json:"drainGraceSeconds,omitempty"`
	Processes         []Process `json:"processes"`
	Exited            []string  `json:"exited,omitempty"`
	Beacon            *Beacon   `json:"beacon,omitempty"`
}

// Process is one process the agent runs.
type Process struct {
	ProcessID  string    `json:"processId"`
	PID        int       `json:"pid,omitempty"`
	LaunchPath string    `json:"launchPath,omitempty"`
	Parameters string    `json:"parameters,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
}

// Beacon is where the agent's UDP ping beacon answers
// (docs/beacon-protocol.md).
type Beacon struct {
	Domain string `json:"domain"`
	Port   int    `json:"port"`
}

// Reply is the control plane's answer to a heartbeat: the compute's status,
// the runtime configuration to converge to, and what the control plane
// knows of each of the compute's processes.
type Reply struct {
	ComputeStatus              string                        `json:"computeStatus"`
	HeartbeatIntervalSeconds   int                           `json:"heartbeatIntervalSeconds"`
	ProcessReadyTimeoutSeconds int                           `json:"processReadyTimeoutSeconds"`
	RuntimeConfiguration       gamelift.RuntimeConfiguration `json:"runtimeConfiguration"`
	Processes                  []ProcessStatus               `json:"processes"`
}

// ProcessStatus is what the control plane knows of one process.
// GameSessionID names the live game session it hosts, so an agent whose
// runtime configuration shrank stops idle processes rather than games.
// Kill, on a TERMINATED process, asks the agent to kill it now rather than
// give it time to exit; EndReason says why it ended (FORCE_TERMINATED: its
// game session was force-terminated; UNHEALTHY: it failed its health
// checks; PROCESS_ENDING: it called ProcessEnding). WasReady says it called
// ProcessReady; HostedGameSession says it was given a game session.
type ProcessStatus struct {
	ProcessID         string `json:"processId"`
	Status            string `json:"status"`
	GameSessionID     string `json:"gameSessionId,omitempty"`
	Kill              bool   `json:"kill,omitempty"`
	EndReason         string `json:"endReason,omitempty"`
	WasReady          bool   `json:"wasReady,omitempty"`
	HostedGameSession bool   `json:"hostedGameSession,omitempty"`
}

// Process statuses of a Reply. PENDING is a process launched (per the
// agent) that has not called ProcessReady yet.
const (
	StatusPending     = "PENDING"
	StatusActive      = "ACTIVE"
	StatusTerminating = "TERMINATING"
	StatusTerminated  = "TERMINATED"
)

// EndProcessEnding is the EndReason of a process that called ProcessEnding.
const EndProcessEnding = "PROCESS_ENDING"
