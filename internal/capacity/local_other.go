//go:build !unix

package capacity

import "os/exec"

// detach does nothing where there are no process groups: Local.Run drains
// the agents when the server stops.
func detach(*exec.Cmd) {}

// agentsDieWithControlPlane: an agent may outlive a control plane that
// crashed, so a directory an earlier run left may still be in use.
const agentsDieWithControlPlane = false
