//go:build !unix

package cputime

import "time"

// Process is unavailable here: it reports false, and callers fall back to
// wall time or report no CPU time.
func Process() (time.Duration, bool) { return 0, false }
