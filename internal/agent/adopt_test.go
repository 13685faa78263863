//go:build unix

package agent_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent"
)

// The logs an earlier run of the agent left behind count against
// KeepExited like this run's: a restarted agent deletes the oldest of them
// beyond the bound rather than keeping them all for ever.
func TestALaunchBoundsTheLogsAnEarlierRunLeft(t *testing.T) {
	dir := t.TempDir()
	logs, work := filepath.Join(dir, "logs"), filepath.Join(dir, "work")
	if err := os.MkdirAll(filepath.Join(work, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	// Oldest first; process ids are UUIDs.
	old := []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
		"00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004"}
	foreign := filepath.Join(logs, "operator-notes.log")
	if err := os.WriteFile(foreign, []byte("not a process's"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Hour)
	for i, id := range old {
		for _, f := range []string{filepath.Join(logs, id+".log"), filepath.Join(logs, id+".log.1"), filepath.Join(work, "logs", "gamelift-server-sdk-"+id+".log")} {
			if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			at := start.Add(time.Duration(i) * time.Minute)
			if err := os.Chtimes(f, at, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	l := &agent.ExecLauncher{LogDir: logs, WorkDir: work, KeepExited: 2}
	p, err := l.Launch(t.Context(), agent.LaunchSpec{ProcessID: "new", LaunchPath: "/bin/sh", Args: []string{"-c", "exit 0"}, Env: os.Environ()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Wait()
	exists := func(f string) bool { _, err := os.Stat(f); return err == nil }
	for i, id := range old {
		kept := i >= len(old)-2
		for _, f := range []string{filepath.Join(logs, id+".log"), filepath.Join(logs, id+".log.1"), filepath.Join(work, "logs", "gamelift-server-sdk-"+id+".log")} {
			if exists(f) != kept {
				t.Errorf("%s exists %v, want %v (the two newest of the earlier run are kept)", f, exists(f), kept)
			}
		}
	}
	if !exists(filepath.Join(logs, "new.log")) {
		t.Fatal("the new process's log is gone")
	}
	if !exists(foreign) {
		t.Fatal("a log not named after a process id was deleted")
	}
}
