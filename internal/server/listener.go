package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// certPollInterval is how often, in real time, the TLS certificate files
// are checked for a change (a renewal written by certbot, cert-manager…).
const certPollInterval = 10 * time.Second

// certReloader serves the certificate of a key pair on disk and loads it
// again when the files change or on SIGHUP, so a renewed certificate is
// served without a restart. A failed reload keeps the certificate served
// until then.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu    sync.RWMutex
	cert  *tls.Certificate
	stamp string // the files' sizes and modification times when loaded
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// fileStamp identifies the current content of the two files cheaply.
func (r *certReloader) fileStamp() string {
	var b strings.Builder
	for _, f := range []string{r.certFile, r.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%d/%d;", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

// reload loads the key pair from disk.
func (r *certReloader) reload() error {
	stamp := r.fileStamp()
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	r.mu.Lock()
	r.cert, r.stamp = &cert, stamp
	r.mu.Unlock()
	return nil
}

// reloadIfChanged reloads when the files changed since the last load,
// logging the outcome.
func (r *certReloader) reloadIfChanged(force bool) {
	r.mu.RLock()
	same := r.stamp == r.fileStamp()
	r.mu.RUnlock()
	if same && !force {
		return
	}
	if err := r.reload(); err != nil {
		r.log.Error("could not reload the TLS certificate; still serving the previous one", "err", err)
		return
	}
	r.log.Info("reloaded the TLS certificate", "cert", r.certFile)
}

func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert, nil
}

// watch reloads on SIGHUP and when the files change, until ctx ends.
func (r *certReloader) watch(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(certPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			r.reloadIfChanged(true)
		case <-tick.C:
			r.reloadIfChanged(false)
		}
	}
}

// listen binds the main listener (and the metrics listener, if any),
// announces the address, and returns the HTTP server and the call that
// serves it: over TLS with HTTP/2 when a certificate is configured.
func (s *Server) listen() (*http.Server, func() error, error) {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("--listen: %w", err)
	}
	if s.Hosting.SDK != nil {
		if err := s.Hosting.SDK.Bind(); err != nil {
			ln.Close()
			return nil, nil, fmt.Errorf("--sdk-listen: %w", err)
		}
	}
	s.bound.add(ln.Addr())
	if s.cfg.MetricsListen != "" {
		mln, err := net.Listen("tcp", metricsAddr(s.cfg.MetricsListen))
		if err != nil {
			ln.Close()
			if s.Hosting.SDK != nil {
				s.Hosting.SDK.Unbind()
			}
			return nil, nil, fmt.Errorf("--metrics-listen: %w", err)
		}
		s.bound.add(mln.Addr())
		s.log.Info("serving /metrics on its own listener", "addr", mln.Addr().String())
		s.background = append(s.background, s.serveMetrics(mln))
	}
	addr := ln.Addr().String()
	if s.cfg.OnListening != nil {
		s.cfg.OnListening(addr)
	}
	if s.cfg.AddrFile != "" {
		writeAddrFile(s.cfg.AddrFile, addr)
	}
	srv := &http.Server{Addr: addr, Handler: s.limiter.Handler(s.handler),
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.limiter.Configure(srv)
	ln = s.limiter.Listener(ln)
	warnIfExposed(s.log, addr, s.certs != nil)
	if s.certs == nil {
		return srv, func() error { return srv.Serve(ln) }, nil
	}
	srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certs.getCertificate}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	s.background = append(s.background, s.certs.watch)
	return srv, func() error { return srv.ServeTLS(ln, "", "") }, nil
}

// configureListener checks the listener settings at New, so a bad
// certificate or CIDR stops the server before anything starts.
func (s *Server) configureListener() error {
	proxies, err := parseTrustedProxies(s.cfg.TrustedProxies)
	if err != nil {
		return err
	}
	s.trustedProxies = proxies
	if s.cfg.Limits.ProxyProtocol && len(proxies) == 0 {
		return errors.New("--proxy-protocol needs --trusted-proxies: only the proxies named there may say who the client is")
	}
	s.configureLimits()
	switch {
	case s.cfg.TLSCert == "" && s.cfg.TLSKey == "":
		return nil
	case s.cfg.TLSCert == "" || s.cfg.TLSKey == "":
		return errors.New("--tls-cert and --tls-key go together")
	}
	s.certs, err = newCertReloader(s.cfg.TLSCert, s.cfg.TLSKey, s.log)
	return err
}

// parseTrustedProxies reads --trusted-proxies: CIDRs or single addresses.
func parseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is neither a CIDR nor an IP address", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// remoteAddr is the request's peer address.
func remoteAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// bearerAllowed says whether r may carry a bearer operator credential: a
// secret sent as it is, so only where no one can read it on the way — over
// TLS, from a loopback client, through a trusted TLS-terminating proxy
// (X-Forwarded-Proto: https from an address in --trusted-proxies), or
// anywhere with --allow-insecure-bearer. SigV4 never sends the secret and
// is accepted everywhere.
func (s *Server) bearerAllowed(r *http.Request) bool {
	if r.TLS != nil || s.cfg.AllowInsecureBearer {
		return true
	}
	addr, ok := remoteAddr(r)
	if !ok {
		return false
	}
	if addr.IsLoopback() {
		return true
	}
	if !strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return false
	}
	for _, p := range s.trustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// warnIfExposed warns when the main listener is reachable beyond this
// machine without TLS: bearer keys, player tokens and refresh tokens
// would cross the network in the clear.
func warnIfExposed(log *slog.Logger, addr string, tls bool) {
	if tls {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return
	}
	log.Warn("listening beyond loopback without TLS: player tokens and credentials cross the network in the clear; "+
		"give --tls-cert and --tls-key, or put a TLS-terminating proxy in front (--trusted-proxies)", "addr", addr)
}

// metricsAddr is --metrics-listen with loopback as the default host, so
// ":9100" does not expose the metrics to the network by accident.
func metricsAddr(listen string) string {
	if !strings.Contains(listen, ":") {
		listen = ":" + listen
	}
	if strings.HasPrefix(listen, ":") {
		return "127.0.0.1" + listen
	}
	return listen
}

// serveMetrics serves /metrics on its own listener until ctx ends.
func (s *Server) serveMetrics(ln net.Listener) func(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	srv := &http.Server{Handler: mux, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.metricsLimiter.Configure(srv)
	ln = s.metricsLimiter.Listener(ln)
	return func(ctx context.Context) error {
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			return fmt.Errorf("metrics listener: %w", err)
		case <-ctx.Done():
		}
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutCtx)
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// writeAddrFile writes the bound address to path atomically.
func writeAddrFile(path, addr string) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, bytes.TrimSpace([]byte(addr)), 0o600); err == nil {
		os.Rename(tmp, path)
	}
}
