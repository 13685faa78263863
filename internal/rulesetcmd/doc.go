// Package rulesetcmd owns the operator verbs of "muster ruleset": validate,
// explain and simulate. Each verb parses its own arguments, runs against the
// flexmatch package and returns a process exit code (0 ok, 1 invalid or
// failed, 2 usage), so the command table in internal/cli only wires them in.
package rulesetcmd
