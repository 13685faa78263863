package agent

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
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

// ExecLauncher starts real operating-system processes, each in its own
// process group, in WorkDir, with stdout and stderr going to
// LogDir/<ProcessID>.log (rotated at LogMaxBytes, LogKeep old files kept).
type ExecLauncher struct {
	LogDir      string
	WorkDir     string
	LogMaxBytes int64
	LogKeep     int
}

// Launch starts spec. The process is not tied to ctx: it runs until it
// exits or is terminated.
func (l ExecLauncher) Launch(_ context.Context, spec LaunchSpec) (Process, error) {
	if err := os.MkdirAll(l.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("launch %s: log directory: %w", spec.ProcessID, err)
	}
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
	return &execProcess{cmd: cmd, logs: logs}, nil
}

type execProcess struct {
	cmd  *exec.Cmd
	logs *rotatingFile
}

func (p *execProcess) PID() int { return p.cmd.Process.Pid }

func (p *execProcess) Wait() error {
	err := p.cmd.Wait()
	p.logs.Close()
	return err
}

func (p *execProcess) Terminate() error { return terminateGroup(p.cmd.Process) }

func (p *execProcess) Kill() error { return killGroup(p.cmd.Process) }
