package capacity

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel tell a local agent to drain when the
// control plane that started it dies, so a killed control plane leaves no
// agents behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
