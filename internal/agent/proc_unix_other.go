//go:build unix && !linux

package agent

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the process in its own process group, so that
// terminating it reaches its children.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
