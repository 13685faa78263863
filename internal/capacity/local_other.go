//go:build !unix

package capacity

import "os/exec"

// detach does nothing where there are no process groups: Local.Run drains
// the agents when the server stops.
func detach(*exec.Cmd) {}
