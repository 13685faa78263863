// Package flagorder lets the flags of a command line follow its positional
// arguments (muster ruleset validate a.json --json), which Go's flag
// package, stopping at the first positional argument, does not.
package flagorder
