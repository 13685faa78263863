// Package enginebench measures the FlexMatch engine on fixed, seeded
// workloads, one pass over fresh tickets of equal age, and holds the
// sort-and-cut reference a pass is compared with: sort the tickets by the
// batch attribute and, greedily from the lowest, cut consecutive windows of
// one match's worth of tickets whose spread is within maxDistance.
//
// The reference lives apart from the engine on purpose: it is the yardstick
// `muster bench engine` prints and the engine's tests hold it to, so it must
// not share code with what it measures.
package enginebench
