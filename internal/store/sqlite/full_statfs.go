//go:build linux || darwin || freebsd

package sqlite

import "syscall"

// diskFull reports whether the file system holding dir has less room left
// than a WAL append needs (a few pages).
func diskFull(dir string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return uint64(st.Bavail)*uint64(st.Bsize) < 1<<20
}
