package capacity_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
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

// A local agent's key is its own: bound to its compute, it cannot
// heartbeat another compute of its fleet; it works while the agent,
// released, drains and deregisters, and no longer once the agent exited.
func TestALocalAgentsKeyRunsOnlyItsOwnHost(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	box, err := secret.NewBox(make([]byte, secret.KeySize)) // a test's master key: all zeroes will do
	if err != nil {
		t.Fatal(err)
	}
	keys := identity.NewOperatorKeys(identity.KeysConfig{Base: service.Base{Store: e.Store, Clock: e.Clock}, Box: box})
	f := newFakeAgents(t)
	local := f.local(&identity.AgentKeys{Keys: keys, Description: "local agents"})
	h := capacity.Host{FleetID: e.FleetID, Location: loc, ComputeName: "host-2"}
	if err := local.Provision(ctx, h); err != nil {
		t.Fatal(err)
	}
	id, sec := f.key(h.ComputeName)
	got, p, err := keys.OperatorSecret(ctx, id)
	if err != nil || got != sec || p.Role != auth.RoleAgent || p.AgentFleetID != e.FleetID || p.AgentCompute != h.ComputeName {
		t.Fatalf("the agent's key: %+v, %v; want an agent key bound to %s of %s", p, err, h.ComputeName, e.FleetID)
	}
	e.registerForeign(h.ComputeName)
	agentCtx := auth.With(ctx, p)
	if _, err := e.Fleets.Heartbeat(agentCtx, e.FleetID, h.ComputeName, agentwire.Heartbeat{}); err != nil {
		t.Fatalf("the agent's heartbeat for its own compute: %v", err)
	}
	if _, err := e.Fleets.Heartbeat(agentCtx, e.FleetID, fleettest.Compute, agentwire.Heartbeat{}); !fault.Is(err, fault.Forbidden) {
		t.Fatalf("the agent's heartbeat for %s: %v, want Forbidden", fleettest.Compute, err)
	}

	if err := local.Release(ctx, h); err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.OperatorSecret(ctx, id); err != nil || !local.Running(h.FleetID, h.ComputeName) {
		t.Fatalf("while the released agent drains its key must work: %v (running %v)", err, local.Running(h.FleetID, h.ComputeName))
	}
	f.letGo()
	waitFor(t, "the released agent to exit", func() bool { return !local.Running(h.FleetID, h.ComputeName) })
	if _, _, err := keys.OperatorSecret(ctx, id); !fault.Is(err, fault.NotFound) {
		t.Fatalf("the exited agent's key: %v, want NotFound (revoked)", err)
	}
}

// A released host's directory goes once its agent exited, not while it
// drains; the directories of the last three hosts released stay for a
// post-mortem, and a running host's stays.
func TestAReleasedLocalHostsDirectoryGoesOnceItsAgentExits(t *testing.T) {
	ctx := context.Background()
	f := newFakeAgents(t)
	local := f.local(nil)
	hosts := make([]capacity.Host, 5)
	for i := range hosts {
		hosts[i] = capacity.Host{FleetID: "fleet-1", Location: loc, ComputeName: "muster-" + string(rune('1'+i))}
		if err := local.Provision(ctx, hosts[i]); err != nil {
			t.Fatal(err)
		}
		f.key(hosts[i].ComputeName) // started
	}
	dir := func(h capacity.Host) string { return filepath.Join(local.Dir, h.ComputeName) }
	exists := func(h capacity.Host) bool { _, err := os.Stat(dir(h)); return err == nil }
	release := func(hs ...capacity.Host) {
		t.Helper()
		for _, h := range hs {
			if err := local.Release(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
	}
	exited := func(hs ...capacity.Host) {
		t.Helper()
		for _, h := range hs {
			waitFor(t, h.ComputeName+"'s agent to exit", func() bool { return !local.Running(h.FleetID, h.ComputeName) })
		}
	}

	release(hosts[0])
	if !local.Running(hosts[0].FleetID, hosts[0].ComputeName) || !exists(hosts[0]) {
		t.Fatal("a released host whose agent still drains lost its directory")
	}
	f.letGo()
	exited(hosts[0])
	if !exists(hosts[0]) {
		t.Fatal("the only released host's directory is gone: the last three are kept")
	}
	release(hosts[1:4]...)
	exited(hosts[1:4]...)
	if exists(hosts[0]) {
		t.Errorf("%s, the fourth host released from last, keeps its directory", dir(hosts[0]))
	}
	for _, h := range hosts[1:] {
		if !exists(h) {
			t.Errorf("%s is gone: one of the last three released, or a running host's", dir(h))
		}
	}
}

// The directories an earlier run of the control plane left (a restart, a
// crash) count as retired ones, oldest first: the first start deletes
// those beyond the last three at once, and neither the directory of the
// host it starts nor a file; the next host released outlives them.
func TestTheDirectoriesAnEarlierLocalRunLeftAreRetired(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("agents may outlive the control plane here: an earlier run's directories are left alone")
	}
	ctx := context.Background()
	f := newFakeAgents(t)
	local := f.local(nil)
	h := capacity.Host{FleetID: "fleet-1", Location: loc, ComputeName: "muster-again"}
	leave := func(name string, age time.Duration) string {
		t.Helper()
		path := filepath.Join(local.Dir, name)
		if err := os.MkdirAll(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(path, "agent.log"), []byte("why it ended"), 0o600); err != nil {
			t.Fatal(err)
		}
		mod := time.Now().Add(-age)
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
		return path
	}
	again := leave(h.ComputeName, 10*time.Hour) // the oldest of all
	// Newest first by name, so that an order by name would delete the
	// wrong ones.
	stale := make([]string, 5)
	for i := range stale {
		stale[i] = leave("muster-old-"+string(rune('a'+i)), time.Duration(i+1)*time.Hour)
	}
	file := filepath.Join(local.Dir, "notes")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-20 * time.Hour)
	if err := os.Chtimes(file, old, old); err != nil {
		t.Fatal(err)
	}
	exists := func(path string) bool { _, err := os.Stat(path); return err == nil }

	if err := local.Provision(ctx, h); err != nil {
		t.Fatal(err)
	}
	f.key(h.ComputeName) // started
	for i, path := range stale {
		if kept := i < 3; exists(path) != kept {
			t.Errorf("%s (the %d. newest left) exists: %v, want %v", path, i+1, exists(path), kept)
		}
	}
	if log, err := os.ReadFile(filepath.Join(again, "agent.log")); err != nil || string(log) != "why it ended" {
		t.Errorf("the started host's directory lost its log: %q, %v", log, err)
	}
	if !exists(file) {
		t.Error("a file under Dir was deleted: only directories are hosts'")
	}

	if err := local.Release(ctx, h); err != nil {
		t.Fatal(err)
	}
	f.letGo()
	waitFor(t, "the released agent to exit", func() bool { return !local.Running(h.FleetID, h.ComputeName) })
	if exists(stale[2]) || !exists(stale[1]) || !exists(again) {
		t.Errorf("after a release, the oldest kept directory left stays (%v), or the last two left (%v) or the released host's (%v) went",
			exists(stale[2]), exists(stale[1]), exists(again))
	}
}

// fakeAgents stands in for `muster agent`: a script that records its
// environment in <compute name>.env in its own directory and, told to
// drain (SIGINT), exits once the file "go" is there, so that a test sees
// a released agent while it drains and once it exited.
type fakeAgents struct {
	t           *testing.T
	dir, binary string
}

func newFakeAgents(t *testing.T) *fakeAgents {
	t.Helper()
	f := &fakeAgents{t: t, dir: t.TempDir()}
	f.binary = filepath.Join(f.dir, "agent.sh")
	// $9 is the compute name (Local passes --compute-name as $8).
	script := strings.ReplaceAll(`#!/bin/sh
trap 'until [ -e "DIR/go" ]; do sleep 0.01; done; exit 0' INT
env > "DIR/$9.tmp" && mv "DIR/$9.tmp" "DIR/$9.env"
while :; do sleep 1 & wait $!; done
`, "DIR", f.dir)
	if err := os.WriteFile(f.binary, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

// local is a local provisioner of these agents, with its own key per host
// when keys is set (else one shared key); it stops with the test.
func (f *fakeAgents) local(keys capacity.HostKeys) *capacity.Local {
	l := &capacity.Local{Binary: f.binary, Endpoint: func() string { return "http://127.0.0.1:1" }, Dir: f.t.TempDir(), Beacon: "off",
		Keys: keys, Credentials: func(context.Context, string) (string, string, error) { return "MKIAAGENT", "secret", nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	f.t.Cleanup(func() {
		f.letGo()
		cancel()
		<-done
	})
	return l
}

// letGo lets the agents told to drain exit.
func (f *fakeAgents) letGo() {
	if err := os.WriteFile(filepath.Join(f.dir, "go"), nil, 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// key waits for the agent of compute to start and returns its key.
func (f *fakeAgents) key(compute string) (id, secret string) {
	f.t.Helper()
	var env []byte
	waitFor(f.t, "the agent of "+compute+" to start", func() bool {
		var err error
		env, err = os.ReadFile(filepath.Join(f.dir, compute+".env"))
		return err == nil
	})
	for l := range strings.Lines(string(env)) {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "MUSTER_ACCESS_KEY_ID="); ok {
			id = v
		}
		if v, ok := strings.CutPrefix(l, "MUSTER_SECRET_ACCESS_KEY="); ok {
			secret = v
		}
	}
	return id, secret
}

// waitFor polls cond, which a real process makes true on real time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) { // a safety net for a hung test, not a timing check
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
