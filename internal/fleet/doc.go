// Package fleet owns where game servers run: custom locations, and — with
// the hosting capability — fleets, their locations, computes, server
// processes and capacity: each location's desired, minimum and maximum
// count of computes (UpdateFleetCapacity), which internal/capacity makes
// real through provisioners. A location whose capacity was never set is
// left to the studio and reports the computes it has. Counts above
// Config.MaxInstances (--capacity-max-instances) are refused with
// LimitExceeded, as GameLift refuses desired instances above the account's
// instance limit; counts stored above it earlier ask for no host beyond it
// (Service.Target).
package fleet
