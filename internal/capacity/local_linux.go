package capacity

import (
	"os/exec"
	"syscall"
)

// detach puts a local agent in its own process group, so a terminal's
// Ctrl-C reaches only the control plane (which drains first, then stops
// the agents), and has the kernel kill the agent when the control plane
// that started it dies: its game servers die with it (the agent's children
// get SIGKILL when it dies), so a killed control plane leaves nothing
// behind. A drain would not help then: with the control plane gone, the
// agent could neither tell it nor deregister, and the game servers could
// not end their game sessions.
// agentsDieWithControlPlane: Pdeathsig (detach) ends every local agent
// when the control plane dies, so the directories an earlier run left have
// no agent in them.
const agentsDieWithControlPlane = true

func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
