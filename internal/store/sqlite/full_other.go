//go:build !linux && !darwin && !freebsd

package sqlite

// diskFull cannot tell here: a failed write is reported as a failed disk.
func diskFull(string) bool { return false }
