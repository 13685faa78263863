package fleet_test

import (
	"errors"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
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
	t.Run("a healthy report soon after the last one writes nothing; any other report is written, and UnhealthyChecks failed ones in a row end the process", func(t *testing.T) {
		e.AttachProcess(t, "proc-2")
		if _, err := e.Fleets.ProcessReady(e.Ctx, "proc-2", 7777, "5.4.0", "Go", nil); err != nil {
			t.Fatal(err)
		}
		read := func() (fleet.Process, int64) {
			t.Helper()
			var p fleet.Process
			var version int64
			if err := e.Store.View(e.Ctx, func(r store.Reader) (err error) {
				p, version, err = fleet.GetProcess(e.Ctx, r, "proc-2")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return p, version
		}
		report := func(healthy bool) {
			t.Helper()
			if err := e.Fleets.ProcessHeartbeat(e.Ctx, "proc-2", healthy); err != nil {
				t.Fatal(err)
			}
		}
		ready, readyVersion := read()

		report(true) // as the server SDK does right after ProcessReady
		if p, v := read(); v != readyVersion || !p.Heartbeat.Equal(ready.Heartbeat) {
			t.Fatalf("a healthy report right after ready wrote the process: version %d → %d", readyVersion, v)
		}

		e.Clock.Advance(fleet.HeartbeatRecordInterval)
		report(true)
		p, v := read()
		if v != readyVersion+1 || !p.Heartbeat.Equal(e.Clock.Now().UTC()) {
			t.Fatalf("a healthy report %v after the last was not recorded: version %d, heartbeat %v", fleet.HeartbeatRecordInterval, v, p.Heartbeat)
		}

		report(false)
		if p, v2 := read(); v2 != v+1 || p.Healthy || p.FailedChecks != 1 {
			t.Fatalf("an unhealthy report: version %d, %+v; want it written as one failed check", v2, p)
		}
		report(true) // healthy again at once: written, and the count starts over
		if p, _ := read(); !p.Healthy || p.FailedChecks != 0 {
			t.Fatalf("a healthy report after an unhealthy one: %+v, want healthy with no failed check", p)
		}
		for range fleet.UnhealthyChecks {
			report(false)
		}
		if p, _ := read(); p.Status != fleet.ProcessTerminated {
			t.Fatalf("after %d unhealthy reports in a row the process is %s, want %s", fleet.UnhealthyChecks, p.Status, fleet.ProcessTerminated)
		}
	})
}

// TestASweeperJudgesNoSilenceLongerThanItHasWatched: after the control plane
// was down, or a replica took the sweep over, heartbeats that could not
// arrive are not silence; a sweeper judges computes lost only once it has
// watched for three heartbeat intervals, and processes silent only once for
// SilenceTimeout.
func TestASweeperJudgesNoSilenceLongerThanItHasWatched(t *testing.T) {
	e := fleettest.New(t, "custom-a")
	for _, c := range []struct {
		watched      time.Duration
		lost, silent bool
	}{
		{0, false, false},
		{3*fleettest.HeartbeatInterval - time.Second, false, false},
		{3 * fleettest.HeartbeatInterval, true, false},
		{fleet.SilenceTimeout - time.Second, true, false},
		{fleet.SilenceTimeout, true, true},
	} {
		if lost, silent := e.Fleets.SweepsDue(c.watched); lost != c.lost || silent != c.silent {
			t.Errorf("after watching %v: sweeps lost %v, silent %v; want %v, %v", c.watched, lost, silent, c.lost, c.silent)
		}
	}
}
