//go:build !linux

package capacity

import "os/exec"

// dieWithParent does nothing where the kernel cannot signal a child when
// its parent dies: Local.Run drains the agents when the server stops.
func dieWithParent(*exec.Cmd) {}
