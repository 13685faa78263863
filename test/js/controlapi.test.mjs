// Drives Muster's control API with the real AWS SDK for JavaScript v3
// GameLift client, which speaks AWS JSON 1.1. The Go test
// cmd/muster/e2e_test.go starts `muster serve` and runs this file with
// `node --test`, passing the endpoint and keys in the environment.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  GameLiftClient,
  CreateLocationCommand,
  ListLocationsCommand,
  DeleteLocationCommand,
  TagResourceCommand,
  ListTagsForResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-gamelift";
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, createHmac } from "node:crypto";

// Sha256 is the hash constructor SignatureV4 wants, over node's crypto.
class Sha256 {
  constructor(secret) {
    this.hash = secret ? createHmac("sha256", secret) : createHash("sha256");
  }
  update(data) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

const endpoint = process.env.MUSTER_ENDPOINT;
const region = process.env.MUSTER_REGION ?? "mu-local-1";
const admin = { accessKeyId: process.env.MUSTER_ACCESS_KEY_ID, secretAccessKey: process.env.MUSTER_SECRET_ACCESS_KEY };
const readOnly = { accessKeyId: process.env.MUSTER_RO_ACCESS_KEY_ID, secretAccessKey: process.env.MUSTER_RO_SECRET_ACCESS_KEY };

function client(credentials, extra = {}) {
  return new GameLiftClient({ endpoint, region, credentials, maxAttempts: 1, ...extra });
}

async function locationNames() {
  const out = await client(admin).send(new ListLocationsCommand({}));
  return (out.Locations ?? []).map((l) => l.LocationName);
}

async function rejects(promise, name, messagePart) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, name, `error name: ${err.name}: ${err.message}`);
    if (messagePart) assert.match(err.message, messagePart);
    return true;
  });
}

test("a correct call creates, lists, tags and deletes a location", async () => {
  const gl = client(admin);
  const created = await gl.send(new CreateLocationCommand({ LocationName: "custom-js-one", Tags: [{ Key: "team", Value: "infra" }] }));
  assert.equal(created.Location.LocationName, "custom-js-one");
  assert.match(created.Location.LocationArn, /^arn:aws:gamelift:mu-local-1:\d{12}:location\/custom-js-one$/);
  assert.ok((await locationNames()).includes("custom-js-one"));

  const arn = created.Location.LocationArn;
  await gl.send(new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: "stage", Value: "dev" }] }));
  let tags = await gl.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
  assert.deepEqual(tags.Tags, [{ Key: "stage", Value: "dev" }, { Key: "team", Value: "infra" }]);
  await gl.send(new UntagResourceCommand({ ResourceARN: arn, TagKeys: ["team"] }));
  tags = await gl.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
  assert.deepEqual(tags.Tags, [{ Key: "stage", Value: "dev" }]);

  await gl.send(new DeleteLocationCommand({ LocationName: arn }));
  assert.ok(!(await locationNames()).includes("custom-js-one"));
});

test("pagination returns every location once", async () => {
  const gl = client(admin);
  for (const n of ["custom-page-a", "custom-page-b", "custom-page-c"]) {
    await gl.send(new CreateLocationCommand({ LocationName: n }));
  }
  const seen = [];
  let NextToken;
  do {
    const out = await gl.send(new ListLocationsCommand({ Limit: 2, NextToken }));
    assert.ok(out.Locations.length <= 2);
    seen.push(...out.Locations.map((l) => l.LocationName));
    NextToken = out.NextToken;
  } while (NextToken);
  for (const n of ["custom-page-a", "custom-page-b", "custom-page-c"]) {
    assert.equal(seen.filter((s) => s === n).length, 1, `${n} seen once in ${seen}`);
  }
});

test("bad input is refused with InvalidRequestException naming the member, and nothing changes", async () => {
  const before = await locationNames();
  await rejects(client(admin).send(new CreateLocationCommand({ LocationName: "nope" })), "InvalidRequestException", /LocationName/);
  await rejects(client(admin).send(new ListLocationsCommand({ Limit: 500 })), "InvalidRequestException", /Limit/);
  assert.deepEqual(await locationNames(), before);
});

test("text the server would have to alter, and reserved aws: tags, are refused and nothing changes", async () => {
  const before = await locationNames();
  // A lone UTF-16 surrogate: JSON.stringify escapes it as \ud800, which
  // no UTF-8 text can hold.
  await rejects(client(admin).send(new CreateLocationCommand({ LocationName: "custom-js-\ud800" })), "SerializationException", /UTF-8/);
  await rejects(
    client(admin).send(new CreateLocationCommand({ LocationName: "custom-js-tagged", Tags: [{ Key: "aws:owner", Value: "me" }] })),
    "TaggingFailedException",
    /aws:/,
  );
  assert.deepEqual(await locationNames(), before);
});

test("a duplicate location is a ConflictException", async () => {
  await client(admin).send(new CreateLocationCommand({ LocationName: "custom-js-dup" }));
  await rejects(client(admin).send(new CreateLocationCommand({ LocationName: "custom-js-dup" })), "ConflictException", /custom-js-dup/);
});

test("deleting a missing location is a NotFoundException", async () => {
  await rejects(client(admin).send(new DeleteLocationCommand({ LocationName: "custom-never-was" })), "NotFoundException", /custom-never-was/);
});

test("a bad signature is refused", async () => {
  const before = await locationNames();
  const forged = { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey + "x" };
  await rejects(client(forged).send(new CreateLocationCommand({ LocationName: "custom-forged" })), "InvalidSignatureException");
  assert.deepEqual(await locationNames(), before);
});

test("an unknown key is refused", async () => {
  await rejects(
    client({ accessKeyId: "MKIAUNKNOWNUNKNOWN00", secretAccessKey: "whatever-secret-value" }).send(new ListLocationsCommand({})),
    "UnrecognizedClientException",
  );
});

test("a read-only key may read but not write", async () => {
  await client(readOnly).send(new ListLocationsCommand({}));
  const before = await locationNames();
  await rejects(client(readOnly).send(new CreateLocationCommand({ LocationName: "custom-readonly" })), "UnauthorizedException", /read-only/);
  assert.deepEqual(await locationNames(), before);
});

test("a clock-skewed request is refused", async () => {
  // The SDK signs with its clock shifted by systemClockOffset (ms).
  const skewed = client(admin, { systemClockOffset: -10 * 60 * 1000 });
  await rejects(skewed.send(new ListLocationsCommand({})), "InvalidSignatureException", /expired|skew/i);
});

test("an unknown operation is refused with UnknownOperationException", async () => {
  const url = new URL(endpoint);
  const signer = new SignatureV4({ credentials: admin, region, service: "gamelift", sha256: Sha256 });
  const request = {
    method: "POST",
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: "/",
    headers: {
      host: url.host,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "GameLift.LaunchRocket",
    },
    body: "{}",
  };
  const signed = await signer.sign(request);
  const res = await fetch(`${endpoint}/`, { method: "POST", headers: signed.headers, body: "{}" });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.__type, "UnknownOperationException");
  assert.match(body.message, /LaunchRocket/);
});
