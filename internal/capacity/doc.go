// Package capacity makes fleet locations have the computes their capacity
// asks for, and moves that capacity with GameLift's scaling policies.
//
// Reconciling (Service.Reconcile, for one fleet location; Service.Run for
// all, every ReconcileInterval and at once when a desired capacity
// changes). Only a location whose capacity was set (fleet.Capacity.Set)
// and that has a provisioner is reconciled; the others are left to the
// studio. Computes counted: ACTIVE ones plus hosts asked of the provisioner
// that have not registered yet (fleet.Capacity.Pending, reported as
// PENDING). Desired is held to the fleet service's limit on instances
// (fleet.Service.Target): a count stored above it asks for no host beyond
// the limit, nor drains one for being above it. Desired above the computes
// counted: computes still draining for a scale-in
// whose hosts were not released yet are ACTIVE again
// (fleet.Service.UndrainCompute; most game sessions first), then new hosts
// are asked of the provisioner, each under a new compute name
// (muster-<8 hex>). Desired below: first
// hosts not registered yet are released (kept in fleet.Capacity.Releasing
// until the provisioner confirms it, asked again after a backoff on
// failure), then the ACTIVE compute with the
// fewest game sessions (ties: the newest) among those whose host runs the
// agent, as a provisioner's hosts do, is drained (a compute registered by
// other means counts toward the capacity but is the studio's to remove)
// (fleet.Service.DrainCompute): it takes no new game session, its idle
// processes are told to end, and processes hosting game sessions — under
// protection or not — are left to finish; once it hosts none, its host is
// released (Provisioner.Release), and a compute still registered
// ReleaseDeadline after the release succeeded is deregistered; a lost
// (IMPAIRED) agent compute silent for ReleaseDeadline is released and
// deregistered. A location its fleet no longer has, or a deleted fleet's,
// is no longer provisioned: its pending hosts and agent computes are
// released, then its capacity record is deleted. A location's provisioner
// calls run beside the reconciling loop, four at a time per location, so
// a slow provisioner holds up no other location.
//
// A provisioner that fails, or whose host does not register within
// RegisterDeadline (a Local whose agent exits before registering fails at
// once), is asked again for the same compute name after a
// backoff (BaseBackoff doubling up to MaxBackoff); each failure is a fleet
// event (GENERIC_EVENT) and counts in muster_capacity_provision_failures_total.
// Provisioners must therefore treat a repeated Provision of one name as
// "make sure this host exists".
//
// Provisioners (Provisioner; configured per location by the operator, in
// the server's configuration only, never through the API): Local starts
// `muster agent` processes on this machine (each with only the allowed
// part of the control plane's environment, AgentEnv, and an agent key: with
// Local.Keys, as the server gives it, its own, bound to its compute and
// revoked once it exits; else one of its fleet), and deletes a host's directory
// once its agent exited after a release or with the control plane, the
// last three such kept; Exec runs an operator's command, Webhook makes a
// signed HTTP call.
//
// Scaling policies (PutScalingPolicy, DescribeScalingPolicies,
// DeleteScalingPolicy) are stored in kind scalingpolicy, id
// <fleetId>/<name>, K1 fleet id. Evaluate runs every minute on the clock
// (and at once when a placement finds no capacity, NoCapacity, at most once
// per ten seconds, then reconciles what it decided). A policy
// applies to each location of its fleet whose auto-scaling is not stopped
// (StopFleetActions). Target-based (PercentAvailableGameSessions): desired
// becomes the smallest count of computes whose idle share of game-session
// slots would reach the target, as GameLift's target tracking does.
// Rule-based: when the metric compares with the threshold for
// EvaluationPeriods evaluations in a row, desired is adjusted by
// ScalingAdjustment (ChangeInCapacity, ExactCapacity,
// PercentChangeInCapacity). Desired stays within the location's minimum
// and maximum, and is never raised above the limit on instances
// (fleet.Service.SetDesired). After a policy changes a location's capacity,
// no policy changes it again in the other direction for ScaleInCooldown
// (scale-in) — scale-out is never delayed — so a policy cannot flap.
// QueueDepth and WaitTime count, in each fleet location, the PENDING
// placements whose first choice it is (the placer's own candidate order:
// the latency policy in force, the queue's priorities, an override), and
// waiting placements count as sessions to host there; so a placement adds
// demand in one location, not in every location of the fleet. A policy
// that cannot be evaluated is ERROR, with a fleet event, and ACTIVE again
// once it can be: when its fleet is not ACTIVE or its metric cannot be
// computed it is in force nowhere; when the provisioner of a location keeps
// failing (a host failed three times and has not registered) it is out of
// force in that location only, so the healthy locations still scale.
//
// A provisioned host not yet registered when the control plane starts (or
// when this replica takes the lease) is asked for again at once. A
// provisioner that is stopping with the control plane (Local.Stop) has its
// locations left alone.
package capacity
