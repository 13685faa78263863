// Verifies webhook deliveries Muster signed with the Standard Webhooks
// reference library (standardwebhooks on npm). The Go test
// internal/webhook/js_test.go captures real deliveries at a local receiver
// and runs this file with `node --test`, passing them in WEBHOOK_CASES: a
// JSON list of {secret, headers, body (base64)}, each of which must verify,
// and must fail once its body or secret is changed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Webhook, WebhookVerificationError } from "standardwebhooks";

const cases = JSON.parse(process.env.WEBHOOK_CASES ?? "[]");

test("there are deliveries to verify", () => {
  assert.ok(cases.length > 0);
});

for (const [i, c] of cases.entries()) {
  const body = Buffer.from(c.body, "base64");
  test(`delivery ${i} verifies with its secret`, () => {
    const payload = new Webhook(c.secret).verify(body, c.headers);
    assert.deepEqual(payload, JSON.parse(body.toString("utf8")));
  });
  test(`delivery ${i} with a changed body is refused`, () => {
    const changed = Buffer.concat([body, Buffer.from(" ")]);
    assert.throws(() => new Webhook(c.secret).verify(changed, c.headers), WebhookVerificationError);
  });
  test(`delivery ${i} is refused with another secret`, () => {
    const other = "whsec_" + Buffer.alloc(32, 7).toString("base64");
    assert.throws(() => new Webhook(other).verify(body, c.headers), WebhookVerificationError);
  });
}
