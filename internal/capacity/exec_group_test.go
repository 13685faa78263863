//go:build unix

package capacity_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/capacity"
)

// A command killed for its timeout takes the programs it started with it
// (terraform, a cloud CLI): left running, they would go on creating or
// deleting a host while Muster asks again.
func TestATimedOutCommandsChildrenAreKilledWithIt(t *testing.T) {
	dir := t.TempDir()
	script, pidFile := filepath.Join(dir, "provision.sh"), filepath.Join(dir, "child.pid")
	err := os.WriteFile(script, []byte("#!/bin/sh\nsleep 300 &\necho $! > \"$PIDFILE\"\nwait\n"), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	e := &capacity.Exec{Command: []string{script}, Timeout: 500 * time.Millisecond, Env: []string{"PIDFILE=" + pidFile, "PATH=" + os.Getenv("PATH")}}
	err = e.Provision(context.Background(), capacity.Host{FleetID: "fleet-1", Location: "custom-a", ComputeName: "muster-1"})
	if err == nil || !strings.Contains(err.Error(), "no answer within 500ms") {
		t.Fatalf("got %v", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	// A killed process disappears on real time, once its signal is
	// delivered: a short bounded wait, not a timing check.
	for deadline := time.Now().Add(5 * time.Second); alive(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("the command's child %d still runs after the command timed out", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive says whether a process runs: a zombie does not (in a container
// without an init that reaps orphans, a killed orphan stays one).
func alive(pid int) bool {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		_, rest, _ := strings.Cut(string(b), ") ")
		return !strings.HasPrefix(rest, "Z")
	}
	return syscall.Kill(pid, 0) == nil
}
