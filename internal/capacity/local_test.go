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
		Credentials: func(context.Context, string) (string, string, error) { return "MKIAAGENT", "secret", nil }}
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

// A local agent, and so its game servers, starts from the allowed part of
// the control plane's environment and its own agent key: never the admin
// key (or any other secret) the control plane was started with.
func TestALocalAgentGetsOnlyTheAllowedEnvironment(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "env")
	agent := filepath.Join(dir, "agent.sh")
	if err := os.WriteFile(agent, []byte("#!/bin/sh\nenv > "+dump+".tmp && mv "+dump+".tmp "+dump+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var gotFleet string
	local := &capacity.Local{Binary: agent, Endpoint: func() string { return "http://127.0.0.1:1" }, Dir: dir, Beacon: "off",
		Env: []string{"PATH=" + os.Getenv("PATH"), "HOME=/home/op", "MUSTER_ADMIN_SECRET_ACCESS_KEY=admin-secret", "MUSTER_MASTER_KEY=m", "DATABASE_URL=postgres://u:p@h/db"},
		Credentials: func(_ context.Context, fleetID string) (string, string, error) {
			gotFleet = fleetID
			return "MKIAAGENT", "agent-secret", nil
		}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run stops the agent once it is done: the script ends at once anyway
	defer local.Run(ctx)
	if err := local.Provision(context.Background(), capacity.Host{FleetID: "fleet-1", Location: loc, ComputeName: "muster-1"}); err != nil {
		t.Fatal(err)
	}
	var env []byte
	for deadline := time.Now().Add(30 * time.Second); ; {
		var err error
		if env, err = os.ReadFile(dump); err == nil {
			break
		}
		if time.Now().After(deadline) { // a safety net for a hung test, not a timing check
			t.Fatal("the agent never ran")
		}
		time.Sleep(10 * time.Millisecond) // a real process starts on real time
	}
	if gotFleet != "fleet-1" {
		t.Errorf("the key was asked for fleet %q, want fleet-1", gotFleet)
	}
	for _, banned := range []string{"MUSTER_ADMIN_SECRET_ACCESS_KEY", "admin-secret", "MUSTER_MASTER_KEY", "DATABASE_URL"} {
		if strings.Contains(string(env), banned) {
			t.Errorf("the agent's environment holds %s:\n%s", banned, env)
		}
	}
	for _, want := range []string{"MUSTER_ACCESS_KEY_ID=MKIAAGENT", "MUSTER_SECRET_ACCESS_KEY=agent-secret", "HOME=/home/op"} {
		if !strings.Contains(string(env), want) {
			t.Errorf("the agent's environment lacks %s:\n%s", want, env)
		}
	}
}
