package webhook_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/testenv"
	"github.com/musterhq/muster/internal/webhook"
	"github.com/musterhq/muster/internal/webhook/sign"
)

// TestStandardWebhooksLibrary has the reference library (standardwebhooks
// on npm, in test/js) verify real deliveries: one signed with a
// subscription's only secret, and one signed during a rotation, checked
// with each secret. In CI a missing npm install fails the test; elsewhere
// it skips.
func TestStandardWebhooksLibrary(t *testing.T) {
	node, jsDir := testenv.JSTests(t, "standardwebhooks")
	e := newEnv(t, nil)
	// The library checks the timestamp against the wall clock.
	e.clock.Set(time.Now())
	sub := e.subscribe("studio", nil)
	type jsCase struct {
		Secret  string            `json:"secret"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	var cases []jsCase
	add := func(secret string, d delivery) {
		h := map[string]string{}
		for _, k := range []string{sign.HeaderID, sign.HeaderTimestamp, sign.HeaderSignature} {
			h[k] = d.header.Get(k)
		}
		cases = append(cases, jsCase{Secret: secret, Headers: h, Body: base64.StdEncoding.EncodeToString(d.body)})
	}
	e.publish("arena", "t1")
	add(sub.Secret, e.rcv.next())
	rot := must[*webhook.Created](t)(e.svc.RotateSecret(e.ctx, sub.ID))
	e.caughtUp(sub.ID)
	e.publish("arena", "t2")
	d := e.rcv.next()
	add(sub.Secret, d)
	add(rot.Secret, d)
	doc, _ := json.Marshal(cases)
	cmd := exec.Command(node, "--test", "--test-reporter=spec", "standardwebhooks.test.mjs")
	cmd.Dir = jsDir
	cmd.Env = append(os.Environ(), "WEBHOOK_CASES="+string(doc))
	out, err := cmd.CombinedOutput()
	t.Logf("node --test standardwebhooks.test.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the Standard Webhooks library refused Muster's signatures: %v", err)
	}
}
