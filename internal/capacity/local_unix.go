//go:build unix && !linux

package capacity

import (
	"os/exec"
	"syscall"
)

// detach puts a local agent in its own process group, so a terminal's
// Ctrl-C reaches only the control plane, which drains first and then
// stops the agents (Local.Run). The kernel cannot signal a child here when
// its parent dies.
// agentsDieWithControlPlane: an agent may outlive a control plane that
// crashed, so a directory an earlier run left may still be in use.
const agentsDieWithControlPlane = false

func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
