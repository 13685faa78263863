//go:build !unix

package agent

import (
	"errors"
	"os"
)

// terminateGroup kills the process: outside Unix there is no SIGTERM to
// deliver (Windows has none for a console-less process). Game servers learn
// of draining through the TerminateProcess push instead.
func terminateGroup(p *os.Process) error { return killGroup(p) }

// reapGroup does nothing: outside Unix a process has no group to reap.
func reapGroup(int) {}

// killGroup kills the process.
func killGroup(p *os.Process) error {
	err := p.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}
