package server

import (
	"net"
	"net/netip"
	"sync"

	"github.com/musterhq/muster/internal/webhook"
	"github.com/musterhq/muster/internal/webhook/safehttp"
)

// mountWebhooks mounts webhook subscriptions (/v1/admin/subscriptions) and
// starts their delivery from the outbox. Deliveries may never reach the
// control plane's own listeners, whatever --webhook-allow-private says.
func (s *Server) mountWebhooks(d *deps) {
	svc := webhook.New(webhook.Config{Base: d.base(), Box: d.box, Registerer: d.reg, Leases: s.leaseManager(), Wake: d.bus.Wake,
		Destinations: s.outbound(s.cfg.WebhookAllowPrivate)})
	webhook.NewAPI(webhook.APIConfig{Service: svc, Operator: d.requireOperator, Logger: d.log}).Register(d.mux)
	s.background = append(s.background, svc.Run)
	s.startOutboxPruning(d, svc)
}

// outbound is the rule of every call the control plane makes to an
// address it is given (webhooks, hooks, provisioners, identity providers):
// never a cloud metadata address nor one of its own listeners — those the
// listen flags name, and those they bound, which covers port 0 and a
// listener on every address — and loopback and private networks only when
// allowPrivate.
func (s *Server) outbound(allowPrivate bool) safehttp.Config {
	var own []netip.AddrPort
	for _, listen := range []string{s.cfg.Listen, s.cfg.SDKListen, DefaultSDKListen, metricsListen(s.cfg.MetricsListen)} {
		if ap, ok := listenAddr(listen); ok {
			own = append(own, ap)
		}
	}
	return safehttp.Config{AllowPrivate: allowPrivate, Own: own, Listening: s.bound.list}
}

// metricsListen is the address --metrics-listen binds ("" when unset).
func metricsListen(flag string) string {
	if flag == "" {
		return ""
	}
	return metricsAddr(flag)
}

// listenAddr is the address a listen flag names, when it names a port
// (port 0 is known only once bound: see boundAddrs).
func listenAddr(listen string) (netip.AddrPort, bool) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port == "0" {
		return netip.AddrPort{}, false
	}
	switch host {
	case "":
		host = "0.0.0.0"
	case "localhost":
		host = "127.0.0.1"
	}
	ap, err := netip.ParseAddrPort(net.JoinHostPort(host, port))
	return ap, err == nil
}

// boundAddrs are the addresses the server's listeners actually bound, for
// listeners asked for port 0.
type boundAddrs struct {
	mu    sync.Mutex
	addrs []netip.AddrPort
}

func (b *boundAddrs) add(a net.Addr) {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.addrs = append(b.addrs, ap)
}

func (b *boundAddrs) list() []netip.AddrPort {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]netip.AddrPort(nil), b.addrs...)
}
