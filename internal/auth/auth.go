package auth

import (
	"context"

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
)

// ValidRole reports whether r is a known role.
func ValidRole(r Role) bool { return r == RoleAdmin || r == RoleReadOnly }

// Principal is the authenticated caller of one request.
type Principal struct {
	Kind Kind
	// AccessKeyID and Role are set for operators.
	AccessKeyID string
	Role        Role
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
// the admin role.
func RequireOperator(ctx context.Context, write bool) error {
	p := From(ctx)
	switch {
	case p.Kind != Operator:
		return fault.New(fault.Unauthenticated, "operator credentials are required")
	case write && p.Role != RoleAdmin:
		return fault.New(fault.Forbidden, "access key %s has role %s and may not change anything", p.AccessKeyID, p.Role)
	}
	return nil
}
