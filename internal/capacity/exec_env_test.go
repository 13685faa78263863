package capacity_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/capacity"
)

// An exec command gets PATH, HOME, LANG, TZ, TMPDIR, the variables its
// spec passes and Muster's own three, and nothing else of the control
// plane's environment, which holds its secrets.
func TestAnExecCommandSeesOnlyTheVariablesItIsAllowed(t *testing.T) {
	dir := t.TempDir()
	script, out := filepath.Join(dir, "provision.sh"), filepath.Join(dir, "env")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nenv > \"$OUT\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	specs, err := capacity.ParseSpecs(`{"custom-a": {"kind": "exec", "command": ["` + script + `"], "passEnv": ["OUT", "CLOUD_PROFILE"]}}`)
	if err != nil {
		t.Fatal(err)
	}
	environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LANG=C", "TZ=UTC", "TMPDIR=" + dir, "OUT=" + out, "CLOUD_PROFILE=hosts",
		"MUSTER_ADMIN_SECRET_ACCESS_KEY=admin-secret", "MUSTER_MASTER_KEY=master-key", "MUSTER_POSTGRES_URL=postgres://muster:db-password@db/muster", "UNRELATED=x"}
	provs, _, err := capacity.Build(specs, capacity.Environment{Env: environ})
	if err != nil {
		t.Fatal(err)
	}
	if err := provs["custom-a"].Provision(context.Background(), capacity.Host{FleetID: "fleet-1", Location: "custom-a", ComputeName: "muster-1"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		name, value, _ := strings.Cut(line, "=")
		got[name] = value
	}
	for _, secret := range []string{"admin-secret", "master-key", "db-password"} {
		if strings.Contains(string(b), secret) {
			t.Fatalf("the command saw %s in its environment:\n%s", secret, b)
		}
	}
	want := map[string]string{"PATH": os.Getenv("PATH"), "HOME": dir, "LANG": "C", "TZ": "UTC", "TMPDIR": dir, "OUT": out, "CLOUD_PROFILE": "hosts",
		"MUSTER_FLEET_ID": "fleet-1", "MUSTER_LOCATION": "custom-a", "MUSTER_COMPUTE_NAME": "muster-1"}
	for name, value := range want {
		if got[name] != value {
			t.Errorf("%s = %q, want %q", name, got[name], value)
		}
	}
	// The shell sets a few of its own.
	shell := []string{"PWD", "OLDPWD", "SHLVL", "_"}
	for name := range got {
		if _, ok := want[name]; !ok && !slices.Contains(shell, name) {
			t.Errorf("the command saw %s, which it was not given", name)
		}
	}
}
