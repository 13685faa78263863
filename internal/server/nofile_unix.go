//go:build unix

package server

import "syscall"

// openFileLimit is the soft RLIMIT_NOFILE, when there is one worth the name.
func openFileLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 0, false
	}
	return uint64(rl.Cur), true
}
