// Package agentapi serves the host agent's heartbeat over HTTP
// (docs/agent-protocol.md):
//
//	POST /v1/admin/fleets/{fleetId}/computes/{computeName}/heartbeat
//
// It only decodes the body (strictly, at most httpx.MaxBody bytes: a larger
// one is answered 413), calls fleet.Service.Heartbeat (which authorises,
// validates and records) and renders the answer or the fault, bad fields
// as JSON paths of the body ("$.processes[0].processId"). The caller mounts
// it behind operator authentication.
package agentapi
