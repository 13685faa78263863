package agent_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent"
)

// TestWhatAProcessLeavesBehindInItsGroupIsKilled: a game server's helper
// (here a sleep its launch script left running) does not outlive it,
// holding its ports with nothing supervising it.
func TestWhatAProcessLeavesBehindInItsGroupIsKilled(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "helper.pid")
	l := &agent.ExecLauncher{LogDir: filepath.Join(dir, "logs"), WorkDir: filepath.Join(dir, "work")}
	p, err := l.Launch(t.Context(), agent.LaunchSpec{ProcessID: "leader", LaunchPath: "/bin/sh",
		Args: []string{"-c", "sleep 300 >/dev/null 2>&1 & echo $! > " + pidFile + "; exit 0"}, Env: os.Environ()})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// Gone, or a zombie waiting for a reaper that is not the agent, once
	// the kill has been delivered (the signal is asynchronous).
	state := func() string {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return "gone"
		}
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) == 0 || fields[0] == "Z" {
			return "gone"
		}
		return fields[0]
	}
	deadline := time.Now().Add(5 * time.Second)
	for state() != "gone" && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if st := state(); st != "gone" {
		t.Fatalf("the helper (pid %d) left in the group is still running: state %s", pid, st)
	}
}
