package server

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/api/httpx"
)

// writeTestCertificate writes a self-signed certificate for 127.0.0.1 and
// localhost named cn, and its key, as PEM files in dir.
func writeTestCertificate(t testing.TB, dir, cn string) (certFile, keyFile string) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true}
	certFile, keyFile = filepath.Join(dir, "tls-cert.pem"), filepath.Join(dir, "tls-key.pem")
	if err := httpx.WriteSelfSigned(certFile, keyFile, tmpl); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func servedName(t *testing.T, r *certReloader) string {
	t.Helper()
	c, err := r.getCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.Subject.CommonName
}

func TestARenewedCertificateIsServedWithoutARestart(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeTestCertificate(t, dir, "first")
	var logs bytes.Buffer
	r, err := newCertReloader(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r.reloadIfChanged(false)
	if got := servedName(t, r); got != "first" {
		t.Fatalf("serving %q", got)
	}
	writeTestCertificate(t, dir, "renewed")
	r.reloadIfChanged(false) // what the poll does when the files change
	if got := servedName(t, r); got != "renewed" {
		t.Fatalf("after the files changed, serving %q", got)
	}

	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.reloadIfChanged(true) // what SIGHUP does
	if got := servedName(t, r); got != "renewed" || !strings.Contains(logs.String(), "could not reload the TLS certificate") {
		t.Fatalf("a broken file replaced the served certificate (%q) or went unlogged: %s", got, logs.String())
	}
}

func TestTrustedProxiesAreCIDRsOrAddresses(t *testing.T) {
	got, err := parseTrustedProxies([]string{"10.0.0.0/8", " 192.0.2.7 ", "", "2001:db8::/32"})
	if err != nil || len(got) != 3 || got[1].String() != "192.0.2.7/32" {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := parseTrustedProxies([]string{"10.0.0.0/8", "proxy.example"}); err == nil || !strings.Contains(err.Error(), "--trusted-proxies") {
		t.Fatalf("a host name was accepted: %v", err)
	}
}

func TestListeningBeyondLoopbackWithoutTLSIsWarned(t *testing.T) {
	for _, tt := range []struct {
		addr string
		tls  bool
		warn bool
	}{{"127.0.0.1:8080", false, false}, {"[::1]:8080", false, false}, {"0.0.0.0:8080", false, true}, {"[::]:8080", false, true}, {"10.1.2.3:8080", false, true}, {"0.0.0.0:8443", true, false}} {
		var logs bytes.Buffer
		warnIfExposed(slog.New(slog.NewTextHandler(&logs, nil)), tt.addr, tt.tls)
		if got := strings.Contains(logs.String(), "without TLS"); got != tt.warn {
			t.Errorf("%s tls=%v: warned %v, want %v", tt.addr, tt.tls, got, tt.warn)
		}
	}
	if got := metricsAddr(":9100"); got != "127.0.0.1:9100" {
		t.Errorf("metricsAddr(:9100) = %s", got)
	}
	if got := metricsAddr("0.0.0.0:9100"); got != "0.0.0.0:9100" {
		t.Errorf("an explicit host was changed: %s", got)
	}
}

func TestBearerKeysNeedAPrivateWay(t *testing.T) {
	s := &Server{}
	var err error
	if s.trustedProxies, err = parseTrustedProxies([]string{"192.0.2.0/24"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, remote, proto string
		tls, allowed        bool
	}{
		{"from loopback over HTTP", "127.0.0.1:5000", "", false, true},
		{"from IPv6 loopback over HTTP", "[::1]:5000", "", false, true},
		{"from afar over HTTP", "198.51.100.9:5000", "", false, false},
		{"from afar over HTTPS", "198.51.100.9:5000", "", true, true},
		{"from afar claiming HTTPS", "198.51.100.9:5000", "https", false, false},
		{"through a trusted TLS-terminating proxy", "192.0.2.10:5000", "https", false, true},
		{"through a trusted proxy over HTTP", "192.0.2.10:5000", "http", false, false},
	} {
		r := httptest.NewRequest("GET", "/v1/admin/keys", nil)
		r.RemoteAddr = tt.remote
		if tt.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		if tt.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := s.bearerAllowed(r); got != tt.allowed {
			t.Errorf("%s: allowed %v, want %v", tt.name, got, tt.allowed)
		}
	}
	s.cfg.AllowInsecureBearer = true
	r := httptest.NewRequest("GET", "/v1/admin/keys", nil)
	r.RemoteAddr = "198.51.100.9:5000"
	if !s.bearerAllowed(r) {
		t.Error("--allow-insecure-bearer did not allow a bearer key from afar")
	}
}
