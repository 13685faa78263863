package webhook_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/webhook"
	"github.com/musterhq/muster/internal/webhook/safehttp"
)

func TestSafeDestinations(t *testing.T) {
	t.Run("by default a URL to 127.0.0.1 is refused at creation, and a name resolving there at delivery", func(t *testing.T) {
		e := newEnv(t, func(c *webhook.Config) { c.Destinations = safehttp.Config{}; c.RetryFor = time.Second / 2 })
		_, err := e.svc.Create(e.ctx, webhook.CreateInput{Name: "direct", URL: e.rcv.srv.URL})
		if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("creating a subscription to %s: %v", e.rcv.srv.URL, err)
		}
		sub := e.subscribe("named", func(in *webhook.CreateInput) {
			in.URL = strings.Replace(e.rcv.srv.URL, "127.0.0.1", "localhost", 1)
		})
		e.publish("arena", "t1")
		e.caughtUp(sub.ID)
		a := must[[]webhook.Attempt](t)(e.svc.Deliveries(e.ctx, sub.ID))
		if len(a) != 1 || a[0].Failure != "refused" || a[0].Outcome != "dead-lettered" {
			t.Errorf("attempts = %+v, want one refused", a)
		}
		select {
		case d := <-e.rcv.got:
			t.Errorf("the receiver was reached: %s", d.path)
		default:
		}
	})
	t.Run("with AllowPrivate 127.0.0.1 is reached, the control plane's own address and the metadata address never", func(t *testing.T) {
		own := netip.MustParseAddrPort("127.0.0.1:7777")
		e := newEnv(t, func(c *webhook.Config) {
			c.Destinations = safehttp.Config{AllowPrivate: true, Own: []netip.AddrPort{own}}
		})
		sub := e.subscribe("local", nil)
		ev := e.publish("arena", "t1")[0]
		if d := e.rcv.next(); id(d) != ev.ID {
			t.Errorf("delivered %s", id(d))
		}
		e.caughtUp(sub.ID)
		for _, url := range []string{"http://127.0.0.1:7777/hooks", "http://169.254.169.254/latest", "http://[fd00:ec2::254]/"} {
			if _, err := e.svc.Create(e.ctx, webhook.CreateInput{Name: "bad", URL: url}); !fault.Is(err, fault.Invalid) {
				t.Errorf("creating a subscription to %s: %v", url, err)
			}
		}
	})
}
