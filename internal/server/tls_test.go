package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/gamelift"

	"github.com/musterhq/muster/internal/server"
)

// trusting returns an HTTP client (HTTP/2 enabled) that trusts certFile.
func trusting(t *testing.T, certFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func TestTheGoSDKTalksHTTPSAndHTTP2(t *testing.T) {
	certFile, keyFile := server.WriteTestCertificate(t, t.TempDir(), "muster-test")
	addr := runServer(t, func(c *server.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	hc := trusting(t, certFile)

	gl := sdkClient("https://"+addr, func(o *gamelift.Options) { o.HTTPClient = hc })
	if _, err := gl.ListLocations(context.Background(), &gamelift.ListLocationsInput{}); err != nil {
		t.Fatalf("the Go SDK over https: %v", err)
	}
	resp, err := hc.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("served %s, want HTTP/2", resp.Proto)
	}
	// Bearer keys are fine over TLS, even when they would not be over HTTP.
	req, _ := http.NewRequest("GET", "https://"+addr+"/v1/admin/keys", nil)
	req.Header.Set("Authorization", adminBearer)
	if resp, err := hc.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("bearer over https: %v %v", resp, err)
	}
	// Plain HTTP on the TLS port is refused, not served in the clear.
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil && resp.StatusCode == http.StatusOK {
		t.Fatal("plain HTTP was served on the TLS listener")
	}
}

func TestABadCertificateStopsTheServerAtOnce(t *testing.T) {
	dir := t.TempDir()
	_, err := server.New(context.Background(), server.Config{DataDir: dir, SDKListen: "127.0.0.1:0", TLSCert: dir + "/none.pem", TLSKey: dir + "/none.key"}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Fatalf("got %v, want an error naming --tls-cert", err)
	}
	_, err = server.New(context.Background(), server.Config{DataDir: dir, SDKListen: "127.0.0.1:0", TLSCert: dir + "/none.pem"}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("a certificate without a key: %v", err)
	}
}

// Bearer operator keys sent over plain HTTP from another machine are
// refused by the control API and /v1/admin alike, unless they came through
// a trusted TLS-terminating proxy; SigV4 is accepted from anywhere.
func TestBearerKeysOverPlainHTTPFromAfarAreRefused(t *testing.T) {
	srv, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), SDKListen: "127.0.0.1:0",
		AdminAccessKeyID: benchKeyID, AdminSecretAccessKey: benchSecret, TrustedProxies: []string{"192.0.2.0/24"}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	call := func(remote, proto, path, target string) (int, string) {
		body := ""
		if target != "" {
			body = "{}"
		}
		r := httptest.NewRequest(http.MethodGet, path, strings.NewReader(body))
		if target != "" {
			r.Method = http.MethodPost
			r.Header.Set("X-Amz-Target", "GameLift."+target)
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		}
		r.RemoteAddr = remote
		if proto != "" {
			r.Header.Set("X-Forwarded-Proto", proto)
		}
		r.Header.Set("Authorization", adminBearer)
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, r)
		b, _ := io.ReadAll(w.Result().Body)
		return w.Code, string(b)
	}
	for _, tt := range []struct{ path, target string }{{"/v1/admin/keys", ""}, {"/", "ListLocations"}} {
		if code, body := call("198.51.100.9:4000", "", tt.path, tt.target); code == http.StatusOK || !strings.Contains(body, "AccessDeniedException") {
			t.Errorf("%s%s from afar over HTTP: %d %s", tt.path, tt.target, code, body)
		}
		if code, body := call("192.0.2.10:4000", "https", tt.path, tt.target); code != http.StatusOK {
			t.Errorf("%s%s through a trusted proxy: %d %s", tt.path, tt.target, code, body)
		}
		if code, body := call("127.0.0.1:4000", "", tt.path, tt.target); code != http.StatusOK {
			t.Errorf("%s%s from loopback: %d %s", tt.path, tt.target, code, body)
		}
	}
}

func TestMetricsOnTheirOwnListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	addr := runServer(t, func(c *server.Config) { c.MetricsListen = metricsAddr })

	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "muster_") {
		t.Fatalf("metrics listener: %d %.200s", resp.StatusCode, b)
	}
	if resp, err := http.Get("http://" + addr + "/metrics"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/metrics on the main port without a key: %v %v", resp, err)
	}
	status, body := adminCall(t, "http://"+addr, "GET", "/metrics", "")
	if status != http.StatusOK || !strings.Contains(body, "muster_") {
		t.Fatalf("/metrics on the main port with an operator key: %d", status)
	}
}

// Over HTTP/2 the read time-out cuts one request's body, not the
// connection; the cut is counted like an HTTP/1 one.
func TestHTTP2BodiesCutByTheReadTimeoutAreCounted(t *testing.T) {
	certFile, keyFile := server.WriteTestCertificate(t, t.TempDir(), "muster-test")
	addr := runServer(t, func(c *server.Config) {
		c.TLSCert, c.TLSKey = certFile, keyFile
		c.Limits.ReadTimeout = 300 * time.Millisecond
	})
	hc := trusting(t, certFile)
	body, stall := io.Pipe()
	defer stall.Close()
	go io.WriteString(stall, "{")
	req, _ := http.NewRequest("POST", "https://"+addr+"/", body)
	req.Header.Set("Authorization", adminBearer)
	req.Header.Set("X-Amz-Target", "GameLift.DescribeMatchmakingConfigurations")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if resp, err := hc.Do(req); err == nil {
		if resp.ProtoMajor != 2 {
			t.Fatalf("served %s, want HTTP/2", resp.Proto)
		}
		resp.Body.Close()
	}
	// The stream's reset can reach the client before the handler's read
	// returns: wait for the count rather than expect it already made.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := scrape(t, hc, "https://"+addr+"/metrics", `muster_connections_refused_total{listener="main",reason="body_timeout"}`)
		if n == 1 {
			return
		}
		if n > 1 || time.Now().After(deadline) {
			t.Fatalf("body_timeout refusals: %v, want 1", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scrape reads one sample of the /metrics at url (0 when absent).
func scrape(t *testing.T, hc *http.Client, url, sample string) float64 {
	t.Helper()
	v, err := scrapeSample(hc, url, sample)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
