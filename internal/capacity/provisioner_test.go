package capacity_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
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
	// No AllowPrivate: a provisioner's URL is the operator's configuration,
	// and may name loopback whatever --webhook-allow-private says.
	provs, _, err := capacity.Build(specs, capacity.Environment{Clock: clk, Destinations: safehttp.Config{}})
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
	t.Run("the safe dialer still refuses the control plane's own listener", func(t *testing.T) {
		own := netip.MustParseAddrPort(strings.TrimPrefix(srv.URL, "http://"))
		_, _, err := capacity.Build(specs, capacity.Environment{Clock: clk, Destinations: safehttp.Config{Own: []netip.AddrPort{own}}})
		if err == nil || !safehttp.IsRefused(err) || !strings.Contains(err.Error(), "custom-a: url: ") {
			t.Fatalf("a provisioner at the control plane's own address was built: %v", err)
		}
	})
}

// A webhook provisioner's URL is checked when the server starts, with the
// safe dialer's rules, rather than at its first call: a URL at a cloud
// metadata service (which would hand out the host's credentials) or with
// credentials in it stops the server from starting.
func TestAWebhookProvisionerURLIsCheckedAtStart(t *testing.T) {
	for _, tt := range []struct{ name, url, mention string }{
		{"a cloud metadata address", "http://169.254.169.254/latest/meta-data", "a cloud metadata address"},
		{"a link-local address", "http://169.254.10.1/hosts", "link-local"},
		{"a URL with credentials", "https://user:pw@hosts.example/", "must not carry credentials"},
		{"a URL that is not http", "file:///etc/passwd", "must be an http:// or https:// URL"},
	} {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			_, err := capacity.ParseSpecs(`{"custom-a": {"kind": "webhook", "url": "` + tt.url + `", "secret": "` + sign.NewSecret() + `"}}`)
			if err == nil || !strings.Contains(err.Error(), "provisioners: custom-a: url: ") || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.mention)
			}
		})
	}
	t.Run("a private address is accepted", func(t *testing.T) {
		if _, err := capacity.ParseSpecs(`{"custom-a": {"kind": "webhook", "url": "http://10.0.0.5:8080/hosts", "secret": "` + sign.NewSecret() + `"}}`); err != nil {
			t.Fatal(err)
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
		{"passEnv on a webhook", `{"custom-a": {"kind": "webhook", "url": "https://x", "secret": "whsec_AAAA", "passEnv": ["A"]}}`, "passEnv is for exec provisioners"},
		{"a passEnv entry that is not a name", `{"custom-a": {"kind": "exec", "command": ["x"], "passEnv": ["A=B"]}}`, `passEnv[0]: "A=B" is not a variable name`},
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

// TestEachLocalLocationHasAFolderOfItsOwn: a local provisioner deletes what
// an earlier run left in its folder, so two locations must never share one.
func TestEachLocalLocationHasAFolderOfItsOwn(t *testing.T) {
	specs, err := capacity.ParseSpecs(`{"custom-a": {"kind": "local"}, "custom-b": {"kind": "local"}}`)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	provs, _, err := capacity.Build(specs, capacity.Environment{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{"custom-a", "custom-b"} {
		if got := provs[loc].(*capacity.Local).Dir; got != filepath.Join(dir, loc) {
			t.Errorf("%s's local provisioner keeps its hosts in %s, want %s", loc, got, filepath.Join(dir, loc))
		}
	}
}
