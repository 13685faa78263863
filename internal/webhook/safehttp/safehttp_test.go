package safehttp_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/webhook/safehttp"
)

func TestCheck(t *testing.T) {
	own := netip.MustParseAddrPort("127.0.0.1:7070")
	for _, tt := range []struct {
		addr                 string
		byDefault, inPrivate bool // allowed?
	}{
		{"93.184.216.34:443", true, true},
		{"[2606:2800:220:1::1]:443", true, true},
		{"127.0.0.1:80", false, true},
		{"[::1]:80", false, true},
		{"[::ffff:127.0.0.1]:80", false, true},
		{"10.1.2.3:80", false, true},
		{"172.16.0.1:80", false, true},
		{"192.168.1.1:80", false, true},
		{"100.64.0.1:80", false, true},
		{"[fd12::1]:80", false, true},
		{"169.254.169.254:80", false, false},
		{"[fd00:ec2::254]:80", false, false},
		{"100.100.100.200:80", false, false}, // Alibaba Cloud's metadata, in the shared space
		{"169.254.10.10:80", false, false},
		{"[fe80::1]:80", false, false},
		{"0.0.0.0:80", false, false},
		{"[::]:80", false, false},
		{"224.0.0.1:80", false, false},
		{"[ff02::1]:80", false, false},
		{"255.255.255.255:80", false, false},
		{"[64:ff9b::a9fe:a9fe]:80", false, false},
		{"[64:ff9b::7f00:1]:80", false, true},
		{"127.0.0.1:7070", false, false},
		{"127.0.0.1:7071", false, true},
	} {
		for _, allow := range []bool{false, true} {
			cfg := safehttp.Config{AllowPrivate: allow, Own: []netip.AddrPort{own}}
			want := tt.byDefault
			if allow {
				want = tt.inPrivate
			}
			err := cfg.Check(netip.MustParseAddrPort(tt.addr))
			if (err == nil) != want || (err != nil && !safehttp.IsRefused(err)) {
				t.Errorf("AllowPrivate=%v: Check(%s) = %v, want allowed %v", allow, tt.addr, err, want)
			}
		}
	}
	t.Run("an own listener on the unspecified address refuses its port on loopback", func(t *testing.T) {
		cfg := safehttp.Config{AllowPrivate: true, Own: []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:7070")}}
		if err := cfg.Check(netip.MustParseAddrPort("127.0.0.1:7070")); err == nil {
			t.Error("127.0.0.1:7070 allowed")
		}
		if err := cfg.Check(netip.MustParseAddrPort("93.184.216.34:7070")); err != nil {
			t.Errorf("a public address on the same port: %v", err)
		}
	})
}

func TestCheckURL(t *testing.T) {
	var cfg safehttp.Config
	for _, u := range []string{"https://hooks.example.com/muster", "http://hooks.example.com:8080/x?y=1", "https://93.184.216.34/"} {
		if err := cfg.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%s) = %v", u, err)
		}
	}
	long := "https://hooks.example.com/" + strings.Repeat("x", safehttp.MaxURLLength)
	for _, u := range []string{"ftp://example.com/", "file:///etc/passwd", "example.com/x", "https:///x", "https://user:pw@example.com/",
		"http://127.0.0.1/", "http://[::1]:8080/", "http://169.254.169.254/latest/meta-data/", "https://example.com/#x", long} {
		if err := cfg.CheckURL(u); err == nil {
			t.Errorf("CheckURL(%s) accepted", u)
		}
	}
}

func TestClient(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/inner", http.StatusFound)
			return
		}
		io.WriteString(w, "reached "+r.URL.Path)
	}))
	defer receiver.Close()
	get := func(cfg safehttp.Config, url string) (string, error) {
		resp, err := cfg.Client().Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Status + " " + string(b), nil
	}
	t.Run("127.0.0.1 is refused by default, when connecting", func(t *testing.T) {
		if _, err := get(safehttp.Config{}, receiver.URL); !safehttp.IsRefused(err) {
			t.Errorf("err = %v, want a refusal", err)
		}
	})
	t.Run("127.0.0.1 is reached with AllowPrivate", func(t *testing.T) {
		got, err := get(safehttp.Config{AllowPrivate: true}, receiver.URL+"/x")
		if err != nil || got != "200 OK reached /x" {
			t.Errorf("got %q, %v", got, err)
		}
	})
	t.Run("the control plane's own listener is refused even with AllowPrivate", func(t *testing.T) {
		own := netip.MustParseAddrPort(receiver.Listener.Addr().String())
		if _, err := get(safehttp.Config{AllowPrivate: true, Own: []netip.AddrPort{own}}, receiver.URL); !safehttp.IsRefused(err) {
			t.Errorf("err = %v, want a refusal", err)
		}
	})
	t.Run("an address bound later, given by Listening, is refused", func(t *testing.T) {
		own := netip.MustParseAddrPort(receiver.Listener.Addr().String())
		cfg := safehttp.Config{AllowPrivate: true, Listening: func() []netip.AddrPort { return []netip.AddrPort{own} }}
		if _, err := get(cfg, receiver.URL); !safehttp.IsRefused(err) {
			t.Errorf("err = %v, want a refusal", err)
		}
	})
	t.Run("169.254.169.254 is refused in both modes without a connection", func(t *testing.T) {
		for _, allow := range []bool{false, true} {
			if _, err := get(safehttp.Config{AllowPrivate: allow}, "http://169.254.169.254/latest/meta-data/"); !safehttp.IsRefused(err) {
				t.Errorf("AllowPrivate=%v: err = %v, want a refusal", allow, err)
			}
		}
	})
	t.Run("a name that resolves to a refused address is refused at connection", func(t *testing.T) {
		// A resolver whose DNS server answers every name with 127.0.0.1
		// stands for a rebinding attacker's zone.
		port := receiver.URL[strings.LastIndex(receiver.URL, ":")+1:]
		cfg := safehttp.Config{Resolver: loopbackResolver(t)}
		if _, err := get(cfg, "http://hooks.example.com:"+port+"/"); !safehttp.IsRefused(err) {
			t.Errorf("err = %v, want a refusal", err)
		}
		cfg.AllowPrivate = true
		if got, err := get(cfg, "http://hooks.example.com:"+port+"/ok"); err != nil || got != "200 OK reached /ok" {
			t.Errorf("with AllowPrivate: %q, %v", got, err)
		}
		if _, err := get(safehttp.Config{}, "http://localhost:"+port+"/"); !safehttp.IsRefused(err) {
			t.Errorf("localhost: err = %v, want a refusal", err)
		}
	})
	t.Run("redirects are not followed", func(t *testing.T) {
		got, err := get(safehttp.Config{AllowPrivate: true}, receiver.URL+"/redirect")
		if err != nil || !strings.HasPrefix(got, "302 Found") {
			t.Errorf("got %q, %v; want the 302 itself", got, err)
		}
	})
	t.Run("a destination that never answers fails after ResponseHeaderTimeout", func(t *testing.T) {
		release := make(chan struct{})
		silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer silent.Close()
		defer close(release)
		// The context only keeps a regression from hanging the test.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, silent.URL, nil)
		_, err := (safehttp.Config{AllowPrivate: true, ResponseHeaderTimeout: 50 * time.Millisecond}).Client().Do(req)
		if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "timeout awaiting response headers") {
			t.Errorf("err = %v, want the transport's response header timeout", err)
		}
	})
	t.Run("schemes other than http and https are refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "ftp://example.com/", nil)
		if _, err := (safehttp.Config{}).Client().Do(req); !safehttp.IsRefused(err) {
			t.Errorf("err = %v, want a refusal", err)
		}
	})
}

// loopbackResolver returns a resolver whose every A query is answered
// 127.0.0.1 by an in-process DNS server (a rebinding attacker's zone).
func loopbackResolver(t *testing.T) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		go serveDNS(server, network)
		return client, nil
	}}
}

// serveDNS answers one DNS query over TCP framing (what the Go resolver
// speaks on a stream connection): A queries with 127.0.0.1, others with no
// answer.
func serveDNS(c net.Conn, _ string) {
	defer c.Close()
	var n [2]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return
	}
	q := make([]byte, int(n[0])<<8|int(n[1]))
	if _, err := io.ReadFull(c, q); err != nil || len(q) < 12 {
		return
	}
	end := 12
	for end < len(q) && q[end] != 0 {
		end += int(q[end]) + 1
	}
	end += 5 // the root label, QTYPE and QCLASS
	if end > len(q) {
		return
	}
	isA := q[end-4] == 0 && q[end-3] == 1
	resp := append([]byte{q[0], q[1], 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0}, q[12:end]...)
	if isA {
		resp[7] = 1
		resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1)
	}
	c.Write(append([]byte{byte(len(resp) >> 8), byte(len(resp))}, resp...))
}
