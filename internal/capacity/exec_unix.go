//go:build unix

package capacity

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// ownGroup starts an exec command in its own process group and has its
// cancellation (its timeout) kill the whole group: the command's children
// would otherwise outlive it, still creating or deleting a host while
// Muster asks again.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
}
