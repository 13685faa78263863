//go:build race

package client_test

// raceEnabled makes the shared server the build testenv.Start would run.
const raceEnabled = true
