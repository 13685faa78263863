// Drives Muster's matchmaking with the real AWS SDK for JavaScript v3
// GameLift client (AWS JSON 1.1). cmd/muster/matchmaking_e2e_test.go starts
// `muster serve` and runs this file with `node --test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  GameLiftClient,
  CreateMatchmakingRuleSetCommand,
  DescribeMatchmakingRuleSetsCommand,
  ValidateMatchmakingRuleSetCommand,
  DeleteMatchmakingRuleSetCommand,
  CreateMatchmakingConfigurationCommand,
  DescribeMatchmakingConfigurationsCommand,
  UpdateMatchmakingConfigurationCommand,
  DeleteMatchmakingConfigurationCommand,
  StartMatchmakingCommand,
  DescribeMatchmakingCommand,
  StopMatchmakingCommand,
  AcceptMatchCommand,
  StartMatchBackfillCommand,
} from "@aws-sdk/client-gamelift";

const endpoint = process.env.MUSTER_ENDPOINT;
const region = process.env.MUSTER_REGION ?? "mu-local-1";
const admin = { accessKeyId: process.env.MUSTER_ACCESS_KEY_ID, secretAccessKey: process.env.MUSTER_SECRET_ACCESS_KEY };
const readOnly = { accessKeyId: process.env.MUSTER_RO_ACCESS_KEY_ID, secretAccessKey: process.env.MUSTER_RO_SECRET_ACCESS_KEY };
const gl = new GameLiftClient({ endpoint, region, credentials: admin, maxAttempts: 1 });

const rules = JSON.stringify({
  ruleLanguageVersion: "1.0",
  playerAttributes: [{ name: "skill", type: "number", default: 1000 }],
  teams: [
    { name: "red", minPlayers: 1, maxPlayers: 2 },
    { name: "blue", minPlayers: 1, maxPlayers: 2 },
  ],
  rules: [{
    name: "FairSkill", type: "distance",
    measurements: "max(flatten(teams[*].players.attributes[skill]))",
    referenceValue: "min(flatten(teams[*].players.attributes[skill]))", maxDistance: 50,
  }],
});

async function rejects(promise, name, messagePart) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, name, `error name: ${err.name}: ${err.message}`);
    if (messagePart) assert.match(err.message, messagePart);
    return true;
  });
}

async function waitStatus(id, status) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const out = await gl.send(new DescribeMatchmakingCommand({ TicketIds: [id] }));
    const t = out.TicketList?.[0];
    if (t?.Status === status) return t;
    if (Date.now() > deadline) assert.fail(`ticket ${id} is ${t?.Status}, want ${status}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const player = (id, skill, extra = {}) => ({ PlayerId: id, PlayerAttributes: { skill: { N: skill } }, ...extra });

test("rule sets: validate, create, describe, refuse deletion in use", async () => {
  await rejects(gl.send(new ValidateMatchmakingRuleSetCommand({ RuleSetBody: "{\"ruleLanguageVersion\":\"1.0\"}" })), "InvalidRequestException", /RuleSetBody/);
  const v = await gl.send(new ValidateMatchmakingRuleSetCommand({ RuleSetBody: rules }));
  assert.equal(v.Valid, true);
  const rs = await gl.send(new CreateMatchmakingRuleSetCommand({ Name: "js-rules", RuleSetBody: rules, Tags: [{ Key: "k", Value: "v" }] }));
  assert.match(rs.RuleSet.RuleSetArn, /:matchmakingruleset\/js-rules$/);
  assert.ok(rs.RuleSet.CreationTime instanceof Date);
  const d = await gl.send(new DescribeMatchmakingRuleSetsCommand({ Names: ["js-rules"] }));
  assert.equal(d.RuleSets[0].RuleSetBody, rules);
  await rejects(gl.send(new DescribeMatchmakingRuleSetsCommand({ Names: ["nope"] })), "NotFoundException");
  const c = await gl.send(new CreateMatchmakingConfigurationCommand({
    Name: "js-conf", RuleSetName: rs.RuleSet.RuleSetArn, RequestTimeoutSeconds: 60, AcceptanceRequired: true, AcceptanceTimeoutSeconds: 30,
    FlexMatchMode: "STANDALONE", CustomEventData: "js", Description: "from JavaScript",
  }));
  assert.equal(c.Configuration.RuleSetName, "js-rules");
  assert.equal(c.Configuration.AcceptanceRequired, true);
  await rejects(gl.send(new DeleteMatchmakingRuleSetCommand({ Name: "js-rules" })), "InvalidRequestException", /used by configuration/);
  const u = await gl.send(new UpdateMatchmakingConfigurationCommand({ Name: "js-conf", Description: "updated" }));
  assert.equal(u.Configuration.Description, "updated");
  const all = await gl.send(new DescribeMatchmakingConfigurationsCommand({ RuleSetName: "js-rules" }));
  assert.equal(all.Configurations.length, 1);
});

test("tickets: acceptance by both players completes the match", async () => {
  await gl.send(new StartMatchmakingCommand({ TicketId: "js-a", ConfigurationName: "js-conf", Players: [player("js-pa", 1000)] }));
  await gl.send(new StartMatchmakingCommand({ TicketId: "js-b", ConfigurationName: "js-conf", Players: [player("js-pb", 1010)] }));
  await waitStatus("js-a", "REQUIRES_ACCEPTANCE");
  await gl.send(new AcceptMatchCommand({ TicketId: "js-a", PlayerIds: ["js-pa"], AcceptanceType: "ACCEPT" }));
  await gl.send(new AcceptMatchCommand({ TicketId: "js-b", PlayerIds: ["js-pb"], AcceptanceType: "ACCEPT" }));
  const a = await waitStatus("js-a", "COMPLETED");
  assert.ok(a.Players[0].Team);
  assert.ok(a.EndTime instanceof Date);
  await rejects(gl.send(new AcceptMatchCommand({ TicketId: "js-a", PlayerIds: ["js-pa"], AcceptanceType: "ACCEPT" })), "InvalidRequestException");
});

test("tickets: one active ticket per player, idempotent TicketId, stop", async () => {
  const first = await gl.send(new StartMatchmakingCommand({ TicketId: "js-c", ConfigurationName: "js-conf", Players: [player("js-pc", 5000)] }));
  assert.equal(first.MatchmakingTicket.Status, "QUEUED");
  const again = await gl.send(new StartMatchmakingCommand({ TicketId: "js-c", ConfigurationName: "js-conf", Players: [player("js-pc", 5000)] }));
  assert.equal(again.MatchmakingTicket.TicketId, "js-c");
  await rejects(gl.send(new StartMatchmakingCommand({ ConfigurationName: "js-conf", Players: [player("js-pc", 5000)] })), "InvalidRequestException", /already in active ticket/);
  await gl.send(new StopMatchmakingCommand({ TicketId: "js-c" }));
  const t = await waitStatus("js-c", "CANCELLED");
  assert.equal(t.StatusReason, "Cancelled");
  await rejects(gl.send(new StopMatchmakingCommand({ TicketId: "js-unknown" })), "NotFoundException");
  await rejects(gl.send(new DeleteMatchmakingConfigurationCommand({ Name: "js-nope" })), "NotFoundException");
});

test("backfill: a backfill ticket needs teams", async () => {
  await rejects(gl.send(new StartMatchBackfillCommand({ ConfigurationName: "js-conf", Players: [{ PlayerId: "x" }] })), "InvalidRequestException", /Team/);
  const bf = await gl.send(new StartMatchBackfillCommand({ TicketId: "js-bf", ConfigurationName: "js-conf", Players: [player("js-old", 1000, { Team: "red" })] }));
  assert.equal(bf.MatchmakingTicket.Status, "QUEUED");
  await gl.send(new StopMatchmakingCommand({ TicketId: "js-bf" }));
});

test("a read-only key cannot start tickets", async () => {
  const ro = new GameLiftClient({ endpoint, region, credentials: readOnly, maxAttempts: 1 });
  await ro.send(new DescribeMatchmakingCommand({ TicketIds: ["js-a"] }));
  await assert.rejects(ro.send(new StartMatchmakingCommand({ ConfigurationName: "js-conf", Players: [player("js-ro", 1)] })));
});
