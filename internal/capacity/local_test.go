package capacity_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/capacity"
)

// A local agent that dies before it registers (a taken port, a bad
// binary) is a failed Provision, reported with its log and asked again
// after the backoff — not a host on its way for the whole register
// deadline, which left a dev server that never became ready.
func TestALocalAgentThatExitsBeforeRegisteringIsAFailedProvision(t *testing.T) {
	e := newEnv(t)
	agent := filepath.Join(t.TempDir(), "agent.sh")
	if err := os.WriteFile(agent, []byte("#!/bin/sh\necho cannot start >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	local := &capacity.Local{Binary: agent, Endpoint: func() string { return "http://127.0.0.1:1" }, Dir: t.TempDir(), Beacon: "off",
		Credentials: func(context.Context) (string, string, error) { return "MKIAAGENT", "secret", nil }}
	e.svc = capacity.New(capacity.Config{Base: e.base(), Fleets: e.Fleets, Provisioners: map[string]capacity.Provisioner{loc: local}, Registerer: prometheus.NewRegistry()})
	e.setCapacity(2, 0, 2) // the environment's compute and one more
	e.reconcile()
	exited := func(m string) bool {
		return strings.Contains(m, "failed to add compute muster-") && strings.Contains(m, "its agent exited before registering (exit status 3; its log: ")
	}
	for deadline := time.Now().Add(30 * time.Second); !slices.ContainsFunc(e.events(), exited); {
		if time.Now().After(deadline) { // a safety net for a hung test, not a timing check
			t.Fatalf("no failure event for the agent's exit in %q", e.events())
		}
		time.Sleep(10 * time.Millisecond) // a real process exits on real time
	}
	if got := e.failures("exited"); got != 1 {
		t.Fatalf("failures{reason=exited} = %v, want 1", got)
	}
	// After the backoff the host is asked of the provisioner again.
	e.Clock.Advance(capacity.DefaultBaseBackoff)
	e.reconcile()
	for deadline := time.Now().Add(30 * time.Second); e.failures("exited") < 2; {
		if time.Now().After(deadline) { // a safety net, as above
			t.Fatalf("the host was not asked again after the backoff; events %q", e.events())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
