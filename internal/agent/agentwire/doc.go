// Package agentwire defines the host agent's heartbeat messages once, for
// both sides of docs/agent-protocol.md: internal/agent sends Heartbeat and
// reads Reply; internal/fleet reads Heartbeat and answers Reply.
//
//	POST /v1/admin/fleets/{fleetId}/computes/{computeName}/heartbeat
//
// It depends only on internal/gamelift (the runtime configuration is
// GameLift's own JSON), so the agent side stays free of the control
// plane's services and cross-compiles wherever the agent runs.
package agentwire
