package fleet_test

import (
	"errors"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
)

// TestTheFleetServiceAnswersAServerProcess checks the rules behind the
// server SDK's calls that the fleet service answers.
func TestTheFleetServiceAnswersAServerProcess(t *testing.T) {
	e := fleettest.New(t, "custom-a")
	e.AttachProcess(t, "proc-1")
	t.Run("ProcessReady takes a port from 1 to 60000 and names Port otherwise", func(t *testing.T) {
		for _, port := range []int32{0, -1, fleet.MaxProcessPort + 1} {
			_, err := e.Fleets.ProcessReady(e.Ctx, "proc-1", port, "5.4.0", "Go", nil)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.Invalid || len(fe.Fields) != 1 || fe.Fields[0].Field != "Port" {
				t.Fatalf("port %d: %v, want Invalid naming Port", port, err)
			}
		}
		p, err := e.Fleets.ProcessReady(e.Ctx, "proc-1", fleet.MaxProcessPort, "5.4.0", "Go", nil)
		if err != nil || p.Status != fleet.ProcessActive || p.Port != fleet.MaxProcessPort {
			t.Fatalf("ProcessReady = %+v, %v", p, err)
		}
	})
	t.Run("a compute registered without a certificate path has no certificate", func(t *testing.T) {
		_, err := e.Fleets.ComputeCertificate(e.Ctx, e.FleetID, fleettest.Compute)
		if !fault.Is(err, fault.NotFound) {
			t.Fatalf("ComputeCertificate = %v, want NotFound", err)
		}
		if _, err := e.Fleets.RegisterCompute(e.Ctx, &gamelift.RegisterComputeInput{FleetId: e.FleetID, ComputeName: fleettest.Compute,
			Location: "custom-a", IpAddress: "127.0.0.1", CertificatePath: "/etc/game/cert.pem"}); err != nil {
			t.Fatal(err)
		}
		c, err := e.Fleets.ComputeCertificate(e.Ctx, e.FleetID, fleettest.Compute)
		if err != nil || c.CertificatePath != "/etc/game/cert.pem" {
			t.Fatalf("ComputeCertificate = %+v, %v", c, err)
		}
	})
	t.Run("fleets have no role credentials", func(t *testing.T) {
		if err := e.Fleets.FleetRoleCredentials(e.Ctx, e.FleetID); !fault.Is(err, fault.Unsupported) {
			t.Fatalf("FleetRoleCredentials = %v, want Unsupported", err)
		}
	})
}
