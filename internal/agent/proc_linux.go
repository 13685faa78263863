package agent

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the process in its own process group, so that
// terminating it reaches its children, and has the kernel kill it if the
// agent dies (an agent restarting must not find strays it does not know).
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
