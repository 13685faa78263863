package cli

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestAgentCommandRefusesAnIncompleteCommandLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"the endpoint, fleet and location are required", nil, nil, "--endpoint, --fleet and --location are required"},
		{"the fleet is required", []string{"--endpoint", "http://127.0.0.1:1", "--location", "custom-home"}, nil, "--fleet is required"},
		// RegisterCompute refuses a compute without a location.
		{"the location is required", []string{"--endpoint", "http://127.0.0.1:1", "--fleet", "fleet-1"}, nil, "--location is required"},
		{"an operator key is required", []string{"--endpoint", "http://127.0.0.1:1", "--fleet", "fleet-1", "--location", "custom-home"}, nil, "MUSTER_ACCESS_KEY_ID"},
		{"the endpoint must be an http URL", []string{"--fleet", "fleet-1", "--location", "custom-home"}, map[string]string{"MUSTER_ENDPOINT": "ftp://x", "MUSTER_ACCESS_KEY_ID": "a", "MUSTER_SECRET_ACCESS_KEY": "b"}, "not an http(s) URL"},
		{"positional arguments are refused", []string{"extra"}, nil, `unexpected argument "extra"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return tc.env[k] }}
			if code := runAgent(context.Background(), env, tc.args); code != ExitUsage {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, ExitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("stderr lacks %q:\n%s", tc.want, stderr.String())
			}
		})
	}
}

func TestSanitizeComputeName(t *testing.T) {
	tests := []struct{ name, host, want string }{
		{"a plain host name is kept", "game-host-1", "game-host-1"},
		{"the domain is dropped", "box7.eu.example.com", "box7"},
		{"other characters become hyphens", "my_box(2)", "my-box-2"},
		{"an empty name gets a default", "", "compute"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sanitizeComputeName(tc.host); got != tc.want {
				t.Fatalf("sanitizeComputeName(%q) = %q, want %q", tc.host, got, tc.want)
			}
		})
	}
}

func TestBeaconAddressReportsWhereClientsCanReachIt(t *testing.T) {
	tests := []struct {
		name, listen, ip, dns, want string
	}{
		{"a specific address is reported as is", "127.0.0.1:7770", "10.0.0.5", "", "127.0.0.1:7770"},
		{"all interfaces report the compute's DNS name first", "0.0.0.0:7770", "10.0.0.5", "box.example.com", "box.example.com:7770"},
		{"all interfaces report the compute's IP without a DNS name", "[::]:7771", "10.0.0.5", "", "10.0.0.5:7771"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, err := net.ResolveUDPAddr("udp", tc.listen)
			if err != nil {
				t.Fatal(err)
			}
			b := beaconAddress(addr, tc.ip, tc.dns)
			if got := net.JoinHostPort(b.Domain, strconv.Itoa(b.Port)); got != tc.want {
				t.Fatalf("reported %s, want %s", got, tc.want)
			}
		})
	}
}

// A beacon address that is taken falls back on the next of the list: the
// local provisioner asks for a well-known port or a free one, and two
// agents starting at once must not both fail over one port.
func TestTheBeaconTakesTheNextAddressWhenOneIsTaken(t *testing.T) {
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ctx := t.Context()
	b, err := listenBeacon(ctx, taken.LocalAddr().String()+",127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("with the first address taken: %v", err)
	}
	defer b.Close()
	if b.Addr().String() == taken.LocalAddr().String() {
		t.Fatalf("bound %s, which is taken", b.Addr())
	}
	_, err = listenBeacon(ctx, taken.LocalAddr().String()+", "+b.Addr().String(), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), taken.LocalAddr().String()) || !strings.Contains(err.Error(), b.Addr().String()) {
		t.Fatalf("with every address taken: %v, want an error naming both", err)
	}
}
