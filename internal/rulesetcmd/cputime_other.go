//go:build !unix

package rulesetcmd

import "time"

// cpuTime is unavailable here; simulate falls back to wall time.
func cpuTime() (time.Duration, bool) { return 0, false }
