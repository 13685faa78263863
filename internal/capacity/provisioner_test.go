package capacity_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/webhook/safehttp"
	"github.com/musterhq/muster/internal/webhook/sign"
)

func TestWebhookProvisionerSignsItsCalls(t *testing.T) {
	secret := sign.NewSecret()
	v, err := sign.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Now())
	var got []map[string]string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := v.Verify(r.Header, body, clk.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var m map[string]string
		json.Unmarshal(body, &m)
		got = append(got, m)
		w.WriteHeader(status)
		io.WriteString(w, "quota exceeded")
	}))
	defer srv.Close()
	specs, err := capacity.ParseSpecs(`{"custom-a": {"kind": "webhook", "url": "` + srv.URL + `", "secret": "` + secret + `", "timeout": "5s"}}`)
	if err != nil {
		t.Fatal(err)
	}
	provs, _, err := capacity.Build(specs, capacity.Environment{Clock: clk, Client: safehttp.Config{AllowPrivate: true}.Client()})
	if err != nil {
		t.Fatal(err)
	}
	h := capacity.Host{FleetID: "fleet-1", Location: "custom-a", ComputeName: "muster-0a0b0c0d"}
	if err := provs["custom-a"].Provision(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if err := provs["custom-a"].Release(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0]["action"] != "provision" || got[1]["action"] != "release" || got[0]["computeName"] != h.ComputeName || got[0]["fleetId"] != "fleet-1" {
		t.Fatalf("calls %v", got)
	}
	status = http.StatusServiceUnavailable
	err = provs["custom-a"].Provision(context.Background(), h)
	if err == nil || !strings.Contains(err.Error(), "HTTP 503: quota exceeded") {
		t.Fatalf("a refusal: %v", err)
	}
	t.Run("the safe dialer refuses private addresses unless allowed", func(t *testing.T) {
		provs, _, _ := capacity.Build(specs, capacity.Environment{Clock: clk, Client: safehttp.Config{}.Client()})
		if err := provs["custom-a"].Provision(context.Background(), h); err == nil || !safehttp.IsRefused(err) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestParseSpecsRefusesBadProvisioners(t *testing.T) {
	for _, tt := range []struct{ name, in, mention string }{
		{"an unknown kind", `{"custom-a": {"kind": "cloud"}}`, `kind "cloud" must be local, exec or webhook`},
		{"an exec without a command", `{"custom-a": {"kind": "exec"}}`, "needs a command"},
		{"a webhook without a secret", `{"custom-a": {"kind": "webhook", "url": "https://x"}}`, "needs a url and a secret"},
		{"an unknown field", `{"custom-a": {"kind": "local", "cmd": "x"}}`, `unknown field "cmd"`},
		{"a bad duration", `{"custom-a": {"kind": "local", "drainGrace": "soon"}}`, "soon"},
		{"a negative duration", `{"custom-a": {"kind": "exec", "command": ["x"], "timeout": "-1s"}}`, "must be positive"},
	} {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			_, err := capacity.ParseSpecs(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.mention)
			}
		})
	}
}

func FuzzParseSpecs(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"custom-a": {"kind": "local", "drainGrace": "5s"}}`,
		`{"custom-b": {"kind": "exec", "command": ["/bin/true"], "timeout": "60s"}}`, `{"c": {"kind": "webhook", "url": "https://x", "secret": "whsec_AAAA"}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		specs, err := capacity.ParseSpecs(in)
		if err != nil {
			return
		}
		for loc, s := range specs {
			if s.Kind != "local" && s.Kind != "exec" && s.Kind != "webhook" {
				t.Fatalf("%s: kind %q accepted", loc, s.Kind)
			}
			if s.Kind == "exec" && (len(s.Command) == 0 || s.Command[0] == "") {
				t.Fatalf("%s: exec without a command accepted", loc)
			}
		}
	})
}

func TestExecProvisionerTimesOut(t *testing.T) {
	e := &capacity.Exec{Command: []string{"/bin/sh", "-c", "sleep 30", "provisioner"}, Timeout: 200 * time.Millisecond}
	err := e.Provision(context.Background(), capacity.Host{FleetID: "fleet-1", Location: "custom-a", ComputeName: "muster-1"})
	if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") {
		t.Fatalf("got %v", err)
	}
}
