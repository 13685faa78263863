package server

import (
	"github.com/musterhq/muster/internal/api/controlapi"
)

// mountCapacity registers the fleet operations of capacity: listing fleets,
// a location's utilization, desired capacity and fleet actions.
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
}
