//go:build !unix

package server

// openFileLimit: systems without RLIMIT_NOFILE have no such limit to fit.
func openFileLimit() (uint64, bool) { return 0, false }
