package agent

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// LaunchSpec is one process to start.
type LaunchSpec struct {
	// ProcessID is GAMELIFT_SDK_PROCESS_ID, unique per launch; the exec
	// launcher also names the log file after it.
	ProcessID  string
	LaunchPath string
	Args       []string
	// Env is the complete environment of the process (KEY=value).
	Env []string
}

// Launcher starts server processes. ExecLauncher is the real one; tests
// may substitute their own.
type Launcher interface {
	Launch(ctx context.Context, spec LaunchSpec) (Process, error)
}

// Process is a started server process.
type Process interface {
	// PID is the operating system's process id.
	PID() int
	// Wait blocks until the process has exited and returns its exit error
	// (nil for exit status 0). It is called exactly once.
	Wait() error
	// Terminate asks the process to stop (SIGTERM to its process group on
	// Unix; on Windows, where there is no such signal, it kills).
	Terminate() error
	// Kill stops the process and its process group at once.
	Kill() error
}

// DefaultKeepExited is how many exited processes' logs ExecLauncher keeps.
const DefaultKeepExited = 100

// ExecLauncher starts real operating-system processes, each in its own
// process group, in WorkDir, with stdout and stderr going to
// LogDir/<ProcessID>.log (rotated at LogMaxBytes, LogKeep old files kept).
// Once more than KeepExited processes have exited (0 means
// DefaultKeepExited, negative keeps all), the logs of the oldest exited ones
// are deleted, with the Go server SDK's own log of each
// (WorkDir/logs/gamelift-server-sdk-<ProcessID>.log). Use it as a pointer.
type ExecLauncher struct {
	LogDir      string
	WorkDir     string
	LogMaxBytes int64
	LogKeep     int
	KeepExited  int

	mu     sync.Mutex
	exited []string // process ids, oldest exit first
	// adopt counts the logs a previous run of the agent left in LogDir as
	// exited (adoptOld), once, before the first launch of this run opens
	// its log; concurrent launches wait for it.
	adopt sync.Once
}

// adoptOld counts the logs an earlier run of the agent left in LogDir as
// those of exited processes, oldest first by modification time, so that
// KeepExited bounds them too: otherwise every restart of the agent would
// leave its predecessor's logs on the disk for ever. No process of an
// earlier run writes there any more: each launch has a new process id.
// Only files named after a process id (a UUID) count.
func (l *ExecLauncher) adoptOld() {
	entries, err := os.ReadDir(l.LogDir)
	if err != nil {
		return
	}
	type old struct {
		id  string
		mod time.Time
	}
	var olds []old
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".log")
		if _, err := uuid.Parse(id); !ok || err != nil || e.IsDir() {
			continue // not a process's log (process ids are UUIDs): not ours to delete
		}
		if info, err := e.Info(); err == nil {
			olds = append(olds, old{id, info.ModTime()})
		}
	}
	slices.SortFunc(olds, func(a, b old) int { return a.mod.Compare(b.mod) })
	ids := make([]string, len(olds))
	for i, o := range olds {
		ids[i] = o.id
	}
	l.mu.Lock()
	l.exited = append(ids, l.exited...)
	l.mu.Unlock()
	l.trim()
}

// Launch starts spec. The process is not tied to ctx: it runs until it
// exits or is terminated.
func (l *ExecLauncher) Launch(_ context.Context, spec LaunchSpec) (Process, error) {
	if err := os.MkdirAll(l.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("launch %s: log directory: %w", spec.ProcessID, err)
	}
	l.adopt.Do(l.adoptOld)
	if l.WorkDir != "" {
		if err := os.MkdirAll(l.WorkDir, 0o755); err != nil {
			return nil, fmt.Errorf("launch %s: work directory: %w", spec.ProcessID, err)
		}
	}
	logs, err := openRotating(filepath.Join(l.LogDir, spec.ProcessID+".log"), l.LogMaxBytes, l.LogKeep)
	if err != nil {
		return nil, fmt.Errorf("launch %s: %w", spec.ProcessID, err)
	}
	path := spec.LaunchPath
	if filepath.Base(path) != path { // a path, not a name to look up in PATH
		if path, err = filepath.Abs(path); err != nil {
			logs.Close()
			return nil, fmt.Errorf("launch %s: %w", spec.ProcessID, err)
		}
	}
	cmd := exec.Command(path, spec.Args...)
	cmd.Dir = l.WorkDir
	cmd.Env = spec.Env
	cmd.Stdout, cmd.Stderr = logs, logs
	// Grandchildren that keep the output pipe open must not block Wait
	// forever once the process itself is gone.
	cmd.WaitDelay = 5 * time.Second
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		logs.Close()
		return nil, fmt.Errorf("launch %s: %w", spec.ProcessID, err)
	}
	return &execProcess{cmd: cmd, logs: logs, launcher: l, id: spec.ProcessID}, nil
}

// retire records that a process exited and deletes the logs of the oldest
// exited processes beyond KeepExited.
func (l *ExecLauncher) retire(processID string) {
	l.mu.Lock()
	l.exited = append(l.exited, processID)
	l.mu.Unlock()
	l.trim()
}

// trim deletes the logs of the oldest exited processes beyond KeepExited.
func (l *ExecLauncher) trim() {
	keep := l.KeepExited
	if keep == 0 {
		keep = DefaultKeepExited
	}
	if keep < 0 {
		return
	}
	l.mu.Lock()
	var drop []string
	if n := len(l.exited) - keep; n > 0 {
		drop = slices.Clone(l.exited[:n])
		l.exited = slices.Delete(l.exited, 0, n)
	}
	l.mu.Unlock()
	for _, id := range drop {
		base := filepath.Join(l.LogDir, id+".log")
		_ = os.Remove(base)
		for i := 1; i <= max(l.LogKeep, DefaultLogKeep); i++ {
			_ = os.Remove(fmt.Sprintf("%s.%d", base, i))
		}
		if l.WorkDir != "" {
			_ = os.Remove(filepath.Join(l.WorkDir, "logs", "gamelift-server-sdk-"+id+".log"))
		}
	}
}

type execProcess struct {
	cmd      *exec.Cmd
	logs     *rotatingFile
	launcher *ExecLauncher
	id       string
}

func (p *execProcess) PID() int { return p.cmd.Process.Pid }

func (p *execProcess) Wait() error {
	err := p.cmd.Wait()
	reapGroup(p.cmd.Process.Pid)
	p.logs.Close()
	p.launcher.retire(p.id)
	return err
}

func (p *execProcess) Terminate() error { return terminateGroup(p.cmd.Process) }

func (p *execProcess) Kill() error { return killGroup(p.cmd.Process) }
