package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/server"
)

// rawCall sends one request to the server's handler with operator
// credentials; target, when set, makes it a GameLift JSON 1.1 call.
func rawCall(t *testing.T, h http.Handler, method, path, target, body string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if target != "" {
		r.Header.Set("X-Amz-Target", "GameLift."+target)
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	}
	r.RemoteAddr = "127.0.0.1:4000"
	r.Header.Set("Authorization", adminBearer)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestListTagsForResourceOfAnUntaggedResourceAnswersAnEmptyList(t *testing.T) {
	srv, _ := newServer(t)
	res := rawCall(t, srv.Handler(), http.MethodPost, "/", "CreateLocation", `{"LocationName":"custom-bare"}`)
	var created struct{ Location struct{ LocationArn string } }
	if err := json.Unmarshal([]byte(readBody(t, res)), &created); err != nil || created.Location.LocationArn == "" {
		t.Fatalf("CreateLocation: %v %+v", err, created)
	}
	res = rawCall(t, srv.Handler(), http.MethodPost, "/", "ListTagsForResource", `{"ResourceARN":"`+created.Location.LocationArn+`"}`)
	if body := readBody(t, res); res.StatusCode != http.StatusOK || body != `{"Tags":[]}` {
		t.Fatalf("ListTagsForResource: %d %s, want 200 {\"Tags\":[]}", res.StatusCode, body)
	}
}

func TestTheControlAPIAnswersWithOneRequestID(t *testing.T) {
	srv, _ := newServer(t)
	for _, c := range []struct{ name, target, body string }{
		{"a success", "ListLocations", `{}`},
		{"an error", "DeleteLocation", `{"LocationName":"custom-none"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := rawCall(t, srv.Handler(), http.MethodPost, "/", c.target, c.body)
			body := readBody(t, res)
			ids := map[string]bool{}
			for name, vs := range res.Header {
				if strings.Contains(strings.ToLower(name), "request-id") || strings.Contains(strings.ToLower(name), "requestid") {
					for _, v := range vs {
						ids[v] = true
					}
				}
			}
			var doc map[string]any
			json.Unmarshal([]byte(body), &doc)
			for _, k := range []string{"RequestId", "requestId", "request_id"} {
				if v, ok := doc[k].(string); ok {
					ids[v] = true
				}
			}
			if len(ids) != 1 {
				t.Fatalf("request ids %v in %v %s; want exactly one", ids, res.Header, body)
			}
		})
	}
}

func TestAMethodARouteDoesNotServeIsRefusedWith405(t *testing.T) {
	srv, _ := newServer(t)
	res := rawCall(t, srv.Handler(), http.MethodDelete, "/v1/locations", "", "")
	body := readBody(t, res)
	if res.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(res.Header.Get("Allow"), http.MethodGet) {
		t.Fatalf("DELETE /v1/locations: %d Allow=%q %s; want 405 with Allow: GET", res.StatusCode, res.Header.Get("Allow"), body)
	}
}

func TestTheControlAPIRefusesAMethodOtherThanPostInItsProtocol(t *testing.T) {
	srv, _ := newServer(t)
	for _, c := range []struct{ name, path, target, wantType string }{
		{"AWS JSON 1.1", "/", "ListFleets", "application/x-amz-json-1.1"},
		{"RPC v2 CBOR", "/service/GameLift/operation/ListFleets", "", "application/cbor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := rawCall(t, srv.Handler(), http.MethodGet, c.path, c.target, "")
			body := readBody(t, res)
			if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != http.MethodPost {
				t.Fatalf("GET %s: %d Allow=%q %q; want 405 with Allow: POST", c.path, res.StatusCode, res.Header.Get("Allow"), body)
			}
			if got := res.Header.Get("Content-Type"); got != c.wantType {
				t.Fatalf("GET %s: Content-Type %q %q; want %q, an error body in the route's protocol", c.path, got, body, c.wantType)
			}
			if c.wantType == "application/cbor" && res.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
				t.Fatalf("GET %s: no smithy-protocol header: %v", c.path, res.Header)
			}
		})
	}
}

// TestThePlayerIPLimitCountsTheClientATrustedProxyNames: behind an HTTP
// load balancer in --trusted-proxies, each player has its own per-IP
// bucket, keyed by the X-Forwarded-For client, as the connection caps are;
// the balancer is not one client.
func TestThePlayerIPLimitCountsTheClientATrustedProxyNames(t *testing.T) {
	srv, _ := newServer(t, func(c *server.Config) {
		c.FakeClock, c.TrustedProxies = true, []string{"192.0.2.0/24"}
		c.Player.IPRate, c.Player.IPBurst = 0.001, 1
	})
	get := func(remote, forwarded string) int {
		r := httptest.NewRequest(http.MethodGet, "/v1/locations", nil)
		r.RemoteAddr = remote
		if forwarded != "" {
			r.Header.Set("X-Forwarded-For", forwarded)
		}
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, r)
		return w.Code
	}
	if a1, a2 := get("192.0.2.1:4000", "203.0.113.1"), get("192.0.2.1:4000", "203.0.113.1"); a1 != http.StatusOK || a2 != http.StatusTooManyRequests {
		t.Fatalf("one player twice through the proxy: %d then %d, want 200 then 429", a1, a2)
	}
	if b := get("192.0.2.1:4000", "203.0.113.2"); b != http.StatusOK {
		t.Fatalf("another player through the same proxy: %d, want 200 (its own bucket)", b)
	}
	// A client that is not a trusted proxy cannot choose its bucket.
	if c1, c2 := get("198.51.100.9:4000", "203.0.113.3"), get("198.51.100.9:4000", "203.0.113.4"); c1 != http.StatusOK || c2 != http.StatusTooManyRequests {
		t.Fatalf("an untrusted client naming two forwarded addresses: %d then %d, want 200 then 429", c1, c2)
	}
}
