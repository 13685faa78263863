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
