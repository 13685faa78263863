// Command muster is Muster's one binary: `muster serve` runs the control
// plane, `muster agent` the host agent, and the other commands manage keys,
// players and rule sets or measure a running server (`muster help` lists
// them). main.go only wires the command table of internal/cli to the
// process; every command lives in internal/cli.
package main
