package auth

import (
	"context"
	"strings"

	"github.com/musterhq/muster/internal/fault"
)

// Kind says what sort of caller a Principal is.
type Kind int

const (
	// Anonymous is no authenticated caller.
	Anonymous Kind = iota
	// Operator is a holder of a Muster access key (the control API and /v1/admin).
	Operator
	// Player is a game client holding an access token for an identity.
	Player
	// Process is a game server process holding a compute auth token.
	Process
)

// Role is what an operator key may do.
type Role string

const (
	// RoleAdmin may read and change everything.
	RoleAdmin Role = "admin"
	// RoleReadOnly may only read.
	RoleReadOnly Role = "read-only"
	// RoleAgent is a host agent's: bound to one fleet (and, optionally,
	// one compute name or compute-name prefix), it may only run its own
	// computes (RequireAgent) and nothing else, so that a compromised game
	// host cannot act on other hosts or on the control plane.
	RoleAgent Role = "agent"
)

// ValidRole reports whether r is a known role.
func ValidRole(r Role) bool { return r == RoleAdmin || r == RoleReadOnly || r == RoleAgent }

// Principal is the authenticated caller of one request.
type Principal struct {
	Kind Kind
	// AccessKeyID and Role are set for operators.
	AccessKeyID string
	Role        Role
	// AgentFleetID and AgentCompute bind a RoleAgent key: the fleet id,
	// and a compute name, a prefix ending in "*", or "" for any compute
	// of the fleet.
	AgentFleetID string
	AgentCompute string
	// IdentityID is set for players.
	IdentityID string
	// FleetID, ComputeName and ProcessID are set for server processes.
	FleetID     string
	ComputeName string
	ProcessID   string
}

type ctxKey struct{}

// With returns a context carrying p.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the Principal in ctx; Anonymous when there is none.
func From(ctx context.Context) Principal {
	p, _ := ctx.Value(ctxKey{}).(Principal)
	return p
}

// RequireOperator fails unless ctx speaks for an operator key; write asks for
// the admin role. An agent key is refused here whatever the call: the few
// calls an agent makes ask RequireAgent instead.
func RequireOperator(ctx context.Context, write bool) error {
	p := From(ctx)
	switch {
	case p.Kind != Operator:
		return fault.New(fault.Unauthenticated, "operator credentials are required")
	case p.Role == RoleAgent:
		return fault.New(fault.Forbidden, "access key %s has role agent and may only run the computes of fleet %s", p.AccessKeyID, p.AgentFleetID)
	case write && p.Role != RoleAdmin:
		return fault.New(fault.Forbidden, "access key %s has role %s and may not change anything", p.AccessKeyID, p.Role)
	}
	return nil
}

// RequireAgent authorises one of a host agent's calls on a compute of a
// fleet (computeName "" for a call on the fleet as a whole, such as
// reading its runtime configuration). fleetID is a fleet id, not an ARN:
// the caller resolves it first. An agent key passes only for its own
// fleet and compute(s); any other operator key is held to RequireOperator
// (write: the call changes state).
func RequireAgent(ctx context.Context, write bool, fleetID, computeName string) error {
	p := From(ctx)
	if p.Kind != Operator || p.Role != RoleAgent {
		return RequireOperator(ctx, write)
	}
	if fleetID != p.AgentFleetID {
		return fault.New(fault.Forbidden, "access key %s has role agent for fleet %s and may not act on fleet %s", p.AccessKeyID, p.AgentFleetID, fleetID)
	}
	if computeName != "" && !ComputeMatches(p.AgentCompute, computeName) {
		return fault.New(fault.Forbidden, "access key %s has role agent for compute %s of fleet %s and may not act on compute %s", p.AccessKeyID, p.AgentCompute, fleetID, computeName)
	}
	return nil
}

// ComputeMatches reports whether an agent key's compute binding (a name,
// a prefix ending in "*", or "" for any) covers name.
func ComputeMatches(binding, name string) bool {
	if prefix, ok := strings.CutSuffix(binding, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return binding == "" || binding == name
}
