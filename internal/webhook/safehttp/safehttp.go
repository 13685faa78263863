package safehttp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"syscall"
	"time"
)

// ErrRefused is wrapped by every refusal of a destination.
var ErrRefused = errors.New("destination refused")

// Config says which destinations a Client may reach.
type Config struct {
	// AllowPrivate allows loopback and private networks (development, tests,
	// a receiver beside Muster). Link-local and metadata addresses and Own
	// stay refused.
	AllowPrivate bool
	// Own are the control plane's own listener addresses, refused always. An
	// unspecified host (":8080", "0.0.0.0:8080", "[::]:8080") refuses that
	// port on every loopback and private address.
	Own []netip.AddrPort
	// Listening, when set, returns more of the control plane's own
	// addresses, read at each connection: those bound after the client was
	// made (a listener on port 0).
	Listening func() []netip.AddrPort
	// Resolver resolves names (net.DefaultResolver when nil).
	Resolver *net.Resolver
	// DialTimeout bounds connecting (10 s when zero). The whole request is
	// bounded by its context.
	DialTimeout time.Duration
	// ResponseHeaderTimeout, when set, bounds the wait for a response's
	// headers once the request is sent: a destination that accepts the
	// connection and never answers fails the request then, whatever its
	// context allows.
	ResponseHeaderTimeout time.Duration
	// IdleConnsPerHost is how many idle connections to one destination
	// are kept for reuse (16 when zero). A caller that may have more calls
	// in flight to one destination keeps as many, so that a busy one is
	// not reconnected for every call.
	IdleConnsPerHost int
}

// MaxURLLength is the longest destination URL CheckURL accepts.
const MaxURLLength = 2048

var (
	metadataV4 = netip.MustParseAddr("169.254.169.254")
	metadataV6 = netip.MustParseAddr("fd00:ec2::254")
	// Alibaba Cloud's metadata service sits in the shared address space,
	// which --webhook-allow-private would otherwise open.
	metadataAlibaba = netip.MustParseAddr("100.100.100.200")
	thisNet         = netip.MustParsePrefix("0.0.0.0/8")
	shared          = netip.MustParsePrefix("100.64.0.0/10")
	nat64           = netip.MustParsePrefix("64:ff9b::/96")
	broadcast       = netip.MustParseAddr("255.255.255.255")
)

// Check returns an error wrapping ErrRefused when cfg forbids connecting to
// addr.
func (cfg Config) Check(addr netip.AddrPort) error {
	ip := addr.Addr().Unmap().WithZone("")
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	refuse := func(why string) error { return fmt.Errorf("%w: %s is %s", ErrRefused, addr, why) }
	switch {
	case ip == metadataV4 || ip == metadataV6 || ip == metadataAlibaba:
		return refuse("a cloud metadata address")
	case ip.IsUnspecified() || thisNet.Contains(ip) || ip == broadcast:
		return refuse("not a destination address")
	case ip.IsMulticast():
		return refuse("multicast")
	case ip.IsLinkLocalUnicast():
		return refuse("link-local")
	}
	own := cfg.Own
	if cfg.Listening != nil {
		own = append(slices.Clip(own), cfg.Listening()...)
	}
	for _, own := range own {
		if own.Port() != addr.Port() {
			continue
		}
		o := own.Addr().Unmap()
		if o == ip || (o.IsUnspecified() && (ip.IsLoopback() || ip.IsPrivate() || isInterfaceAddr(ip))) {
			return refuse("the control plane's own listener")
		}
	}
	if cfg.AllowPrivate {
		return nil
	}
	switch {
	case ip.IsLoopback():
		return refuse("loopback (allowed only with --webhook-allow-private)")
	case ip.IsPrivate() || shared.Contains(ip):
		return refuse("a private network (allowed only with --webhook-allow-private)")
	}
	return nil
}

// CheckURL checks what can be checked of a destination before connecting:
// an absolute http or https URL of at most MaxURLLength bytes with a host
// and no credentials, and when the host is an address literal, the address
// itself.
func (cfg Config) CheckURL(raw string) error {
	if len(raw) > MaxURLLength {
		return fmt.Errorf("must be at most %d characters", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("must be an absolute URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must be an http:// or https:// URL")
	case u.Hostname() == "":
		return errors.New("must name a host")
	case u.User != nil:
		return errors.New("must not carry credentials")
	case u.Fragment != "":
		return errors.New("must not have a fragment")
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return nil // a name: checked when connecting
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ap, err := netip.ParseAddrPort(net.JoinHostPort(ip.String(), port))
	if err != nil {
		return errors.New("has a bad port")
	}
	return cfg.Check(ap)
}

// control is the dialer's Control hook: it runs on the resolved address of
// each connection attempt, before connecting.
func (cfg Config) control(_ string, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s is not an address", ErrRefused, address)
	}
	return cfg.Check(ap)
}

// Transport returns an http.Transport that connects only where cfg allows.
func (cfg Config) Transport() *http.Transport {
	timeout := cfg.DialTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	idlePerHost := cfg.IdleConnsPerHost
	if idlePerHost <= 0 {
		idlePerHost = 16
	}
	d := &net.Dialer{Timeout: timeout, Resolver: cfg.Resolver, Control: cfg.control}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   idlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: cfg.ResponseHeaderTimeout,
	}
}

// Client returns an http.Client over Transport that follows no redirects
// and refuses schemes other than http and https.
func (cfg Config) Client() *http.Client {
	return &http.Client{
		Transport: schemeCheck{cfg.Transport()},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// schemeCheck refuses requests whose URL is not http or https before they
// reach the transport (which would otherwise consult registered protocols).
type schemeCheck struct{ next http.RoundTripper }

func (s schemeCheck) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "http" && r.URL.Scheme != "https" {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, fmt.Errorf("%w: scheme %q", ErrRefused, r.URL.Scheme)
	}
	return s.next.RoundTrip(r)
}

// isInterfaceAddr reports whether ip is one of this machine's addresses,
// where a listener on the unspecified address also answers.
func isInterfaceAddr(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return true // cannot tell: refuse rather than reach ourselves
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Unmap() == ip {
			return true
		}
	}
	return false
}

// IsRefused reports whether err is a refusal of the destination.
func IsRefused(err error) bool { return errors.Is(err, ErrRefused) }
