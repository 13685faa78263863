package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/server"
)

const gameOrigin = "https://game.example"

// newCORSServer serves the whole server on a real listener, with
// --cors-origins allowing gameOrigin.
func newCORSServer(t *testing.T) (*server.Server, string) {
	t.Helper()
	return newServer(t, func(c *server.Config) { c.Player.CORSOrigins = []string{gameOrigin} })
}

// preflight sends what a browser sends before a cross-origin call of
// method to path carrying an access token and a JSON body.
func preflight(t *testing.T, url, origin, method, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// listed reports whether the comma-separated header value names want, as
// browsers compare them (case-insensitively).
func listed(header, want string) bool {
	for v := range strings.SplitSeq(header, ",") {
		if strings.EqualFold(strings.TrimSpace(v), want) {
			return true
		}
	}
	return false
}

// checkAllowed fails unless res lets gameOrigin send method with an
// Authorization header and a JSON body.
func checkAllowed(t *testing.T, res *http.Response, method string) {
	t.Helper()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d, want 204", res.StatusCode)
	}
	h := res.Header
	if got := h.Get("Access-Control-Allow-Origin"); got != gameOrigin {
		t.Fatalf("Access-Control-Allow-Origin %q, want %q (headers %v)", got, gameOrigin, h)
	}
	if !listed(h.Get("Access-Control-Allow-Methods"), method) {
		t.Errorf("Access-Control-Allow-Methods %q does not allow %s", h.Get("Access-Control-Allow-Methods"), method)
	}
	for _, name := range []string{"Authorization", "Content-Type"} {
		if !listed(h.Get("Access-Control-Allow-Headers"), name) {
			t.Errorf("Access-Control-Allow-Headers %q does not allow %s", h.Get("Access-Control-Allow-Headers"), name)
		}
	}
}

func TestBrowsersMayCallTheMatchmakingAndPartyRoutesFromAnAllowedOrigin(t *testing.T) {
	_, url := newCORSServer(t)
	for _, c := range []struct{ name, method, path string }{
		{"a ticket is started", http.MethodPost, "/v1/matchmaking/tickets"},
		{"a ticket is cancelled", http.MethodDelete, "/v1/matchmaking/tickets/ticket-1"},
		{"a match is accepted", http.MethodPost, "/v1/matchmaking/tickets/ticket-1/accept"},
		{"a party is created", http.MethodPost, "/v1/parties"},
		{"a party is joined", http.MethodPost, "/v1/parties/party-1/join"},
		{"the locations are listed", http.MethodGet, "/v1/locations"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkAllowed(t, preflight(t, url, gameOrigin, c.method, c.path), c.method)
		})
	}
}

func TestAnOriginNotListedIsNotAllowedToCallTheMatchmakingAndPartyRoutes(t *testing.T) {
	_, url := newCORSServer(t)
	for _, path := range []string{"/v1/matchmaking/tickets", "/v1/parties"} {
		t.Run(path, func(t *testing.T) {
			res := preflight(t, url, "https://evil.example", http.MethodPost, path)
			if res.StatusCode != http.StatusNoContent {
				t.Fatalf("status %d, want 204", res.StatusCode)
			}
			for _, name := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
				if v := res.Header.Get(name); v != "" {
					t.Errorf("%s: %q, want none", name, v)
				}
			}
		})
	}
}

// notPreflighted are player routes a browser never preflights.
var notPreflighted = map[string]string{
	// The WebSocket API applies no CORS; the Hub checks Origin itself.
	"GET /v1/ws": "a WebSocket handshake",
}

// wildcard matches a path wildcard of a ServeMux pattern.
var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// TestEveryPlayerRouteAnswersABrowsersPreflight walks the routes the
// server serves, so that a player route mounted later without an OPTIONS
// route fails here rather than in a browser.
func TestEveryPlayerRouteAnswersABrowsersPreflight(t *testing.T) {
	srv, url := newCORSServer(t)
	seen := 0
	for _, pattern := range srv.Routes() {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || method == http.MethodOptions || strings.HasPrefix(path, "/v1/admin/") || operatorOnly[pattern] ||
			!(strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/.well-known/")) {
			continue // preflights themselves, operator routes, the control API, health and metrics
		}
		if _, ok := notPreflighted[pattern]; ok {
			continue
		}
		seen++
		t.Run(pattern, func(t *testing.T) {
			checkAllowed(t, preflight(t, url, gameOrigin, method, wildcard.ReplaceAllString(path, "x")), method)
		})
	}
	if seen < 15 {
		t.Fatalf("only %d player routes seen; is the route recorder wired?", seen)
	}
}
