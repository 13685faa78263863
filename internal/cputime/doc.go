// Package cputime reads the CPU time the process has used, for the tools
// that report the engine's cost in CPU rather than wall time (the rule set
// simulator and the engine benchmark).
package cputime
