package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/musterhq/muster/internal/api/controlapi"
	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/identity"
)

// mountCapacity registers the fleet operations of capacity (listing fleets,
// a location's utilization, desired capacity, fleet actions, scaling
// policies) and runs the capacity service: the reconcile loop over the
// operator's provisioners (--capacity-provisioners) and the evaluation of
// scaling policies, which a placement finding no capacity triggers at once.
// It mounts after placement, whose backlog QueueDepth reads.
func (s *Server) mountCapacity(d *deps) {
	fleets := s.Hosting.Fleets
	if fleets == nil {
		return // hosting failed to mount; New reports its error
	}
	controlapi.Register(d.table, "ListFleets", fleets.ListFleets)
	controlapi.Register(d.table, "DescribeFleetLocationUtilization", fleets.DescribeFleetLocationUtilization)
	controlapi.Register(d.table, "UpdateFleetCapacity", fleets.UpdateFleetCapacity)
	controlapi.Register(d.table, "StartFleetActions", fleets.StartFleetActions)
	controlapi.Register(d.table, "StopFleetActions", fleets.StopFleetActions)
	specs, err := capacity.ParseSpecs(s.cfg.CapacityProvisioners)
	if err != nil {
		s.mountErr = fmt.Errorf("--capacity-provisioners: %w", err)
		return
	}
	binary, _ := os.Executable()
	// Each fleet's agents get an agent key bound to it (auth.RoleAgent).
	creds := &identity.AgentKeys{Keys: s.keys, Description: "agents of the local capacity provisioner"}
	// Exec commands get only the allowed part of the environment, and
	// webhook provisioners reach private networks whatever
	// --webhook-allow-private says, which is about studios' URLs
	// (capacity.Build).
	provs, runs, err := capacity.Build(specs, capacity.Environment{Clock: d.clock, Log: d.log, Binary: binary, Endpoint: s.localEndpoint,
		Credentials: creds.Get, Keys: creds, Dir: filepath.Join(s.cfg.DataDir, "capacity-agents"), Env: os.Environ(),
		Destinations: s.outbound(true)})
	if err != nil {
		s.mountErr = fmt.Errorf("--capacity-provisioners: %w", err)
		return
	}
	for loc, p := range s.cfg.Provisioners {
		if _, dup := provs[loc]; dup {
			s.mountErr = fmt.Errorf("--capacity-provisioners: location %s is provisioned by serve --dev", loc)
			return
		}
		provs[loc] = p
	}
	svc := capacity.New(capacity.Config{Base: d.base(), Fleets: fleets, Provisioners: provs,
		Placements: capacity.Placements{Fleets: fleets, ARNs: d.arns}, Registerer: d.reg, ScaleInCooldown: s.cfg.CapacityScaleInCooldown})
	controlapi.Register(d.table, "PutScalingPolicy", svc.PutScalingPolicy)
	controlapi.Register(d.table, "DescribeScalingPolicies", svc.DescribeScalingPolicies)
	controlapi.Register(d.table, "DeleteScalingPolicy", svc.DeleteScalingPolicy)
	if d.placement != nil {
		d.placement.OnNoCapacity(svc.NoCapacity)
	}
	s.Capacity = svc
	s.leased("capacity", svc.Run) // one replica scales and provisions at a time
	s.background = append(s.background, func(ctx context.Context) error {
		<-ctx.Done()
		return creds.Revoke(context.WithoutCancel(ctx))
	})
	// Local agents drain before the listeners close, so they can still
	// deregister their computes.
	s.stopFirst = append(s.stopFirst, runs...)
}

// localEndpoint is the control plane's own URL for the agents a local
// provisioner starts: the main listener, over loopback when it listens on
// every address.
func (s *Server) localEndpoint() string {
	addrs := s.bound.list()
	if len(addrs) == 0 {
		return ""
	}
	a := addrs[0]
	if a.Addr().IsUnspecified() {
		a = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), a.Port())
	}
	scheme := "http://"
	if s.certs != nil {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(a.Addr().String(), fmt.Sprint(a.Port()))
}
