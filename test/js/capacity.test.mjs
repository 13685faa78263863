// Drives Muster's fleet capacity operations with the real AWS SDK for
// JavaScript v3 GameLift client (AWS JSON 1.1): UpdateFleetCapacity and
// the scaling-policy operations. cmd/muster/capacity_e2e_test.go starts
// `muster serve` and runs this file with `node --test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  GameLiftClient,
  CreateLocationCommand,
  CreateFleetCommand,
  UpdateFleetCapacityCommand,
  DescribeFleetLocationCapacityCommand,
  PutScalingPolicyCommand,
  DescribeScalingPoliciesCommand,
  DeleteScalingPolicyCommand,
  StopFleetActionsCommand,
  StartFleetActionsCommand,
  ListFleetsCommand,
} from "@aws-sdk/client-gamelift";

const gl = new GameLiftClient({
  endpoint: process.env.MUSTER_ENDPOINT,
  region: process.env.MUSTER_REGION ?? "mu-local-1",
  credentials: { accessKeyId: process.env.MUSTER_ACCESS_KEY_ID, secretAccessKey: process.env.MUSTER_SECRET_ACCESS_KEY },
  maxAttempts: 1,
});

async function rejects(promise, name, messagePart) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, name, `error name: ${err.name}: ${err.message}`);
    if (messagePart) assert.match(err.message, messagePart);
    return true;
  });
}

async function newFleet() {
  await gl.send(new CreateLocationCommand({ LocationName: "custom-js-cap" })).catch((err) => {
    if (err.name !== "ConflictException") throw err;
  });
  const out = await gl.send(new CreateFleetCommand({ Name: "js-capacity", ComputeType: "ANYWHERE", Locations: [{ Location: "custom-js-cap" }] }));
  return out.FleetAttributes.FleetId;
}

test("UpdateFleetCapacity sets a location's capacity and refuses desired outside minimum and maximum", async () => {
  const FleetId = await newFleet();
  const up = await gl.send(new UpdateFleetCapacityCommand({ FleetId, Location: "custom-js-cap", DesiredInstances: 0, MinSize: 0, MaxSize: 4 }));
  assert.equal(up.FleetId, FleetId);
  assert.equal(up.Location, "custom-js-cap");
  const cap = await gl.send(new DescribeFleetLocationCapacityCommand({ FleetId, Location: "custom-js-cap" }));
  assert.equal(cap.FleetCapacity.InstanceCounts.DESIRED, 0);
  assert.equal(cap.FleetCapacity.InstanceCounts.MAXIMUM, 4);
  await rejects(gl.send(new UpdateFleetCapacityCommand({ FleetId, Location: "custom-js-cap", DesiredInstances: 5 })), "InvalidRequestException", /DesiredInstances: must be between MinSize \(0\) and MaxSize \(4\)/);
  const list = await gl.send(new ListFleetsCommand({}));
  assert.ok(list.FleetIds.includes(FleetId));
});

test("scaling policies are put, described, suspended and deleted", async () => {
  const FleetId = await newFleet();
  const put = await gl.send(new PutScalingPolicyCommand({
    FleetId, Name: "backlog", PolicyType: "RuleBased", MetricName: "QueueDepth", ComparisonOperator: "GreaterThanThreshold",
    Threshold: 0, EvaluationPeriods: 1, ScalingAdjustmentType: "ChangeInCapacity", ScalingAdjustment: 1,
  }));
  assert.equal(put.Name, "backlog");
  await gl.send(new PutScalingPolicyCommand({
    FleetId, Name: "target", PolicyType: "TargetBased", MetricName: "PercentAvailableGameSessions", TargetConfiguration: { TargetValue: 15 },
  }));
  const described = await gl.send(new DescribeScalingPoliciesCommand({ FleetId }));
  const byName = Object.fromEntries(described.ScalingPolicies.map((p) => [p.Name, p]));
  assert.equal(byName.backlog.Status, "ACTIVE");
  assert.equal(byName.backlog.Threshold, 0);
  assert.equal(byName.target.TargetConfiguration.TargetValue, 15);
  await rejects(gl.send(new PutScalingPolicyCommand({ FleetId, Name: "bad", PolicyType: "TargetBased", MetricName: "QueueDepth", TargetConfiguration: { TargetValue: 15 } })),
    "InvalidRequestException", /MetricName: must be PercentAvailableGameSessions/);
  await gl.send(new StopFleetActionsCommand({ FleetId, Actions: ["AUTO_SCALING"] }));
  await gl.send(new StartFleetActionsCommand({ FleetId, Actions: ["AUTO_SCALING"] }));
  await gl.send(new DeleteScalingPolicyCommand({ FleetId, Name: "backlog" }));
  await rejects(gl.send(new DeleteScalingPolicyCommand({ FleetId, Name: "backlog" })), "NotFoundException");
});
