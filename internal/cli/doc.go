// Package cli owns the muster command line: the command table, help for
// every verb, and configuration layering where each flag can also come from
// a MUSTER_* environment variable or a JSON config file (flag > env > file >
// default).
package cli
