// Package bustest holds the checks every bus.Bus implementation must pass,
// for the tests of each implementation to run against real instances.
package bustest
