package cli

import (
	"strings"
	"testing"
)

// Listener settings that cannot work stop `muster serve` before it
// listens, naming the flag.
func TestServeRefusesBadListenerFlags(t *testing.T) {
	table := Commands()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--trusted-proxies", "10.0.0.0/8,proxy.example"}, "--trusted-proxies"},
		{[]string{"--tls-cert", "cert.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-cert", "none.pem", "--tls-key", "none.key"}, "--tls-cert/--tls-key"},
		{[]string{"--dev", "--dev-processes", "0"}, "--dev-processes must be at least 1"},
	} {
		args := append([]string{"serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--sdk-listen", "127.0.0.1:0"}, tt.args...)
		code, _, errOut := runCLI(t, table, args...)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want a failure naming %s", tt.args, code, errOut, tt.want)
		}
	}
}
