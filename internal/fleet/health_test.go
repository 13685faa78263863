package fleet_test

import (
	"testing"

	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/store"
)

// TestHealthReports checks what a process's health reports record: a
// healthy report soon after the last recorded one writes nothing, any
// other report is written, and UnhealthyChecks failed reports in a row
// end the process.
func TestHealthReports(t *testing.T) {
	e := fleettest.New(t, "custom-a")
	e.AttachProcess(t, "proc-1")
	if _, err := e.Fleets.ProcessReady(e.Ctx, "proc-1", 7777, "5.4.0", "Go", nil); err != nil {
		t.Fatal(err)
	}
	read := func() (fleet.Process, int64) {
		t.Helper()
		var p fleet.Process
		var version int64
		if err := e.Store.View(e.Ctx, func(r store.Reader) (err error) {
			p, version, err = fleet.GetProcess(e.Ctx, r, "proc-1")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return p, version
	}
	report := func(healthy bool) {
		t.Helper()
		if err := e.Fleets.ProcessHeartbeat(e.Ctx, "proc-1", healthy); err != nil {
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
}
