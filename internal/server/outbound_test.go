package server_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/identity/identitytest"
	"github.com/musterhq/muster/internal/server"
	"github.com/musterhq/muster/internal/testenv"
)

// TestAnIdentityProviderCannotPointMusterAtItself: the key set address an
// identity provider's discovery names comes from outside the operator's
// configuration, so fetching it goes through the same rule as webhooks:
// never one of the control plane's own listeners. A player's sign-in that
// would make the server call itself fails, and the call is never made.
func TestAnIdentityProviderCannotPointMusterAtItself(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	is := identitytest.NewIssuer(t)
	srv, _ := newServer(t, func(c *server.Config) {
		c.Listen = ln.Addr().String()
		c.Player.OIDCProviders = []identity.OIDCProvider{{Name: "acme", Issuer: is.Server.URL, ClientID: "game-client"}}
	})
	var selfCalls atomic.Int32
	own := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/admin/") {
			selfCalls.Add(1)
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	own.Listener.Close()
	own.Listener = ln
	own.Start()
	t.Cleanup(own.Close)
	jwks := own.URL + "/v1/admin/keys"
	is.JWKSURI.Store(&jwks)

	body := `{"provider":"acme","idToken":"` + is.Token(t, is.Claims("alice", "game-client", time.Now())) + `"}`
	res, err := http.Post(own.URL+"/v1/identity/oidc", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || selfCalls.Load() != 0 {
		t.Fatalf("sign-in through a key set on Muster's own listener: %d, %d calls to it; want 401 and none", res.StatusCode, selfCalls.Load())
	}
}

// TestWebhooksNeverReachTheServersOtherListeners: with private networks
// allowed, a subscription still may not name the SDK endpoint on the port
// it bound (asked for port 0) nor the metrics listener given as a bare
// port: the server's own listeners are refused, whichever they are.
func TestWebhooksNeverReachTheServersOtherListeners(t *testing.T) {
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsPort := strconv.Itoa(free.Addr().(*net.TCPAddr).Port)
	free.Close()
	sdkAddrFile := filepath.Join(t.TempDir(), "sdk-addr")
	addr := runServer(t, func(c *server.Config) {
		c.WebhookAllowPrivate, c.SDKAddrFile, c.MetricsListen = true, sdkAddrFile, metricsPort
	})
	var sdkAddr []byte
	testenv.Eventually(t, "the SDK endpoint listening", 10*time.Second, func() bool {
		sdkAddr, _ = os.ReadFile(sdkAddrFile)
		return len(sdkAddr) > 0
	})
	for name, target := range map[string]string{"the SDK endpoint": string(sdkAddr), "the metrics listener": "127.0.0.1:" + metricsPort} {
		status, body := adminCall(t, "http://"+addr, "POST", "/v1/admin/subscriptions", `{"name":"self","url":"http://`+target+`/hook"}`)
		if status != http.StatusBadRequest || !strings.Contains(body, "url") {
			t.Errorf("a subscription to %s (%s): %d %s; want 400 naming url", name, target, status, body)
		}
	}
}
