package sdk

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/musterhq/muster/internal/api/httpx"
)

// CertFile is the generated certificate's file name in the data directory.
const CertFile, KeyFile = "sdk-tls-cert.pem", "sdk-tls-key.pem"

// certificate returns the endpoint's TLS certificate: the operator's, or a
// self-signed one kept in the data directory (generated on first start).
// Choosing it is transport configuration, like the listen address, not a
// hosting rule, so it stays in this adapter. Its validity is in wall-clock
// time, which TLS peers check, not the injectable clock.
func (s *Server) certificate() (tls.Certificate, error) {
	if s.cfg.TLSCert != "" || s.cfg.TLSKey != "" {
		c, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			return c, fmt.Errorf("--sdk-tls-cert/--sdk-tls-key: %w", err)
		}
		return c, nil
	}
	certPath, keyPath := filepath.Join(s.cfg.DataDir, CertFile), filepath.Join(s.cfg.DataDir, KeyFile)
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		return c, nil
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "muster server SDK endpoint"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if host, _, err := net.SplitHostPort(s.cfg.Listen); err == nil && host != "" {
		if ip := net.ParseIP(host); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, host)
		}
	}
	if h, err := os.Hostname(); err == nil {
		tmpl.DNSNames = append(tmpl.DNSNames, h)
	}
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return tls.Certificate{}, err
	}
	if err := httpx.WriteSelfSigned(certPath, keyPath, tmpl); err != nil {
		return tls.Certificate{}, err
	}
	s.cfg.Logger.Info("generated a self-signed certificate for the server SDK endpoint; Go game servers on wss:// need it trusted (SSL_CERT_FILE)", "path", certPath)
	return tls.LoadX509KeyPair(certPath, keyPath)
}
