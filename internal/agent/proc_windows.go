package agent

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// setProcessGroup starts the process in a new process group.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// terminateGroup kills the process: Windows has no SIGTERM to deliver to a
// console-less process. Game servers learn of draining through the
// TerminateProcess push instead.
func terminateGroup(p *os.Process) error { return killGroup(p) }

// killGroup kills the process.
func killGroup(p *os.Process) error {
	err := p.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}
