//go:build !unix

package enginebench

import "time"

// cpuTime is unavailable here; a Result then has no CPU time.
func cpuTime() (time.Duration, bool) { return 0, false }
