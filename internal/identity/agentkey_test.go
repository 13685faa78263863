package identity_test

import (
	"context"
	"testing"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/service"
)

// An agent key carries its binding into the principal it authenticates
// as, and a binding is refused where it would mean nothing or too much.
func TestAnAgentKeyIsBoundToItsFleet(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	keys := operatorKeys(e)
	key, secret, err := keys.CreateKey(ctx, identity.KeySpec{Role: auth.RoleAgent, FleetID: "fleet-1", ComputeName: "host-*"})
	if err != nil {
		t.Fatal(err)
	}
	got, p, err := keys.OperatorSecret(ctx, key.AccessKeyID)
	if err != nil || got != secret || p.Role != auth.RoleAgent || p.AgentFleetID != "fleet-1" || p.AgentCompute != "host-*" {
		t.Fatalf("OperatorSecret = %+v, %v", p, err)
	}
	for _, c := range []struct {
		spec  identity.KeySpec
		field string
	}{
		{identity.KeySpec{Role: auth.RoleAgent}, "fleetId"},
		{identity.KeySpec{Role: auth.RoleAgent, FleetID: "arn:aws:gamelift:mu-local-1:000000000000:fleet/fleet-1"}, "fleetId"},
		{identity.KeySpec{Role: auth.RoleAgent, FleetID: "fleet-1", ComputeName: "a*b"}, "computeName"},
		{identity.KeySpec{Role: auth.RoleAdmin, FleetID: "fleet-1"}, "fleetId"},
		{identity.KeySpec{Role: auth.RoleReadOnly, ComputeName: "host-1"}, "computeName"},
	} {
		_, _, err := keys.CreateKey(ctx, c.spec)
		var fe *fault.Error
		if !fault.Is(err, fault.Invalid) || !asFault(err, &fe) || len(fe.Fields) != 1 || fe.Fields[0].Field != c.field {
			t.Errorf("CreateKey(%+v) = %v, want Invalid naming %s", c.spec, err, c.field)
		}
	}
}

// The agents a run starts get transient agent keys, one per fleet, never
// an admin key.
func TestAgentKeysAreTransientAgentKeysPerFleet(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	keys := operatorKeys(e)
	a := &identity.AgentKeys{Keys: keys, Description: "local agents"}
	id1, _, err := a.Get(ctx, "fleet-1")
	if err != nil {
		t.Fatal(err)
	}
	id2, _, err := a.Get(ctx, "fleet-2")
	if err != nil || id2 == id1 {
		t.Fatalf("the second fleet's key %s (%v), the first's %s: want two keys", id2, err, id1)
	}
	if again, _, _ := a.Get(ctx, "fleet-1"); again != id1 {
		t.Fatalf("fleet-1's key changed: %s, then %s", id1, again)
	}
	_, p, err := keys.OperatorSecret(ctx, id1)
	if err != nil || p.Role != auth.RoleAgent || p.AgentFleetID != "fleet-1" || p.AgentCompute != "" {
		t.Fatalf("fleet-1's key: %+v, %v", p, err)
	}
	if err := a.Revoke(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := keys.List(ctx)
	for _, k := range list {
		if !k.Revoked() || !k.Transient {
			t.Errorf("key %+v: want transient and revoked", k)
		}
	}
}

// Each host's agent gets a key of its own, bound to its compute: it may
// not act on another compute of its fleet, it is renewed like every
// transient key while the run lasts, and revoking it leaves the other
// hosts' keys working until the run revokes them all.
func TestAMintedAgentKeyIsBoundToItsCompute(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	keys := operatorKeys(e)
	a := &identity.AgentKeys{Keys: keys, Description: "local agents"}
	id1, secret1, err := a.Mint(ctx, "fleet-1", "host-1")
	if err != nil {
		t.Fatal(err)
	}
	id2, _, err := a.Mint(ctx, "fleet-1", "host-2")
	if err != nil || id2 == id1 {
		t.Fatalf("host-2's key %s (%v), host-1's %s: want two keys", id2, err, id1)
	}
	got, p, err := keys.OperatorSecret(ctx, id1)
	if err != nil || got != secret1 || p.Role != auth.RoleAgent || p.AgentFleetID != "fleet-1" || p.AgentCompute != "host-1" {
		t.Fatalf("host-1's key: %+v, %v", p, err)
	}
	agent := auth.With(ctx, p)
	if err := auth.RequireAgent(agent, true, "fleet-1", "host-1"); err != nil {
		t.Fatalf("host-1's key on host-1: %v", err)
	}
	if err := auth.RequireAgent(agent, true, "fleet-1", "host-2"); !fault.Is(err, fault.Forbidden) {
		t.Fatalf("host-1's key on host-2: %v, want Forbidden", err)
	}

	for range 4 { // past TransientKeyTTL: only renewals keep it working
		e.clk.Advance(identity.TransientKeyRenewal)
	}
	if _, _, err := keys.OperatorSecret(ctx, id1); err != nil {
		t.Fatalf("host-1's key after %v of renewals: %v", 4*identity.TransientKeyRenewal, err)
	}

	if err := a.RevokeKey(ctx, id1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.OperatorSecret(ctx, id1); !fault.Is(err, fault.NotFound) {
		t.Fatalf("host-1's revoked key: %v, want NotFound", err)
	}
	if err := a.RevokeKey(ctx, id1); err != nil {
		t.Fatalf("revoking it again: %v", err)
	}
	if _, _, err := keys.OperatorSecret(ctx, id2); err != nil {
		t.Fatalf("host-2's key after host-1's was revoked: %v", err)
	}
	if err := a.Revoke(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.OperatorSecret(ctx, id2); !fault.Is(err, fault.NotFound) {
		t.Fatalf("host-2's key once the run revoked its keys: %v, want NotFound", err)
	}
}

// operatorKeys is the operator key service on e's store and clock.
func operatorKeys(e *env) *identity.OperatorKeys {
	return identity.NewOperatorKeys(identity.KeysConfig{Base: service.Base{Store: e.db, Clock: e.clk}, Box: e.box})
}
