// Package fleet owns where game servers run: custom locations, and — with
// the hosting capability — fleets, their locations, computes, server
// processes and capacity.
package fleet
