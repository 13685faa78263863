//go:build unix

package agent

import (
	"errors"
	"os"
	"syscall"
)

// terminateGroup sends SIGTERM to the process group led by p.
func terminateGroup(p *os.Process) error { return signalGroup(p, syscall.SIGTERM) }

// killGroup sends SIGKILL to the process group led by p.
func killGroup(p *os.Process) error { return signalGroup(p, syscall.SIGKILL) }

// reapGroup kills what is left of the process group pid led, once the
// leader has exited: helpers it started (a crash reporter, a child of a
// launch script) would otherwise live on, holding the game's ports, with
// nothing supervising them.
func reapGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

func signalGroup(p *os.Process, sig syscall.Signal) error {
	err := syscall.Kill(-p.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		// No group (already gone, or never became its own leader): try the process.
		err = p.Signal(sig)
		if errors.Is(err, os.ErrProcessDone) {
			return nil
		}
	}
	return err
}
