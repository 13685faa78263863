//go:build !race

package testenv

// RaceEnabled reports a build with the race detector, for tests whose
// cost it multiplies.
const RaceEnabled = false
