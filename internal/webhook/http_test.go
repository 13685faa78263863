package webhook_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/sigv4"
	"github.com/musterhq/muster/internal/sigv4/sigv4test"
	"github.com/musterhq/muster/internal/webhook"
)

// Operator keys of the API tests, by role.
var testKeys = sigv4test.Keys{
	"AKADMIN": {Secret: "admin-secret", Role: auth.RoleAdmin},
	"AKREAD":  {Secret: "read-secret", Role: auth.RoleReadOnly},
}

// api serves the subscription routes behind the server's operator
// middleware, with bearer keys from testKeys.
func (e *env) api() *httptest.Server {
	mux := http.NewServeMux()
	operatorAuth := httpx.RequireOperator(httpx.OperatorAuth{Verifier: &sigv4.Verifier{Secrets: testKeys}}, nil)
	webhook.NewAPI(webhook.APIConfig{Service: e.svc, Operator: operatorAuth}).Register(mux)
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	return srv
}

// call sends a request with the key of role ("" for none) and decodes the
// JSON answer into out.
func call(t *testing.T, srv *httptest.Server, role, method, path, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for id, k := range testKeys {
		if string(k.Role) == role {
			req.Header.Set("Authorization", "Bearer "+id+":"+k.Secret)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

type problem struct {
	Status int `json:"status"`
	Errors []struct {
		Field  string `json:"Field"`
		Reason string `json:"Reason"`
	} `json:"errors"`
}

func (p problem) fields() string {
	var f []string
	for _, e := range p.Errors {
		f = append(f, e.Field)
	}
	return strings.Join(f, " ")
}

func TestAPI(t *testing.T) {
	e := newEnv(t, nil)
	srv := e.api()
	admin, ro := string(auth.RoleAdmin), string(auth.RoleReadOnly)
	var created webhook.Created
	body := `{"name":"studio","url":"` + e.rcv.srv.URL + `/hooks","eventTypes":["MatchmakingSucceeded"]}`
	t.Run("POST creates a subscription and shows its secret once", func(t *testing.T) {
		if code := call(t, srv, admin, "POST", "/v1/admin/subscriptions", body, &created); code != 201 {
			t.Fatalf("status %d", code)
		}
		if !strings.HasPrefix(created.Secret, "whsec_") || !created.Enabled || created.Arn != "arn:aws:sns:mu-local-1:000000000000:studio" {
			t.Errorf("created = %+v", created)
		}
		var raw map[string]any
		call(t, srv, ro, "GET", "/v1/admin/subscriptions/"+created.ID, "", &raw)
		if _, ok := raw["secret"]; ok || raw["name"] != "studio" {
			t.Errorf("GET = %v: want the subscription without its secret", raw)
		}
	})
	t.Run("bad members are refused naming each of them", func(t *testing.T) {
		var p problem
		code := call(t, srv, admin, "POST", "/v1/admin/subscriptions",
			`{"name":"bad name","url":"ftp://x","eventTypes":["MatchmakingSucceeded",""],"resources":["arn:aws:gamelift:mu-local-1:000000000000:build/b-1"]}`, &p)
		if code != 400 || p.fields() != "$.name $.url $.eventTypes[1] $.resources[0]" {
			t.Errorf("status %d, fields %q", code, p.fields())
		}
		code = call(t, srv, admin, "POST", "/v1/admin/subscriptions", `{"name":"x","url":"http://a.example","colour":"red"}`, &p)
		if code != 400 {
			t.Errorf("an unknown member: status %d", code)
		}
		code = call(t, srv, admin, "POST", "/v1/admin/subscriptions", body, &p)
		if code != 409 || p.fields() != "$.name" {
			t.Errorf("a taken name: status %d, fields %q", code, p.fields())
		}
	})
	t.Run("an event type webhooks never deliver is refused, naming the entry and its value", func(t *testing.T) {
		var p problem
		code := call(t, srv, admin, "POST", "/v1/admin/subscriptions",
			`{"name":"typo","url":"https://hooks.example.com/x","eventTypes":["MatchmakingSucceeded","MatchmakingSucceded"]}`, &p)
		if code != 400 || p.fields() != "$.eventTypes[1]" {
			t.Fatalf("status %d, fields %q; want 400 naming $.eventTypes[1]", code, p.fields())
		}
		if r := p.Errors[0].Reason; !strings.Contains(r, `"MatchmakingSucceded"`) || !strings.Contains(r, "MatchmakingSucceeded") {
			t.Errorf("reason %q: want the bad value and the types accepted", r)
		}
		p = problem{}
		code = call(t, srv, admin, "PATCH", "/v1/admin/subscriptions/"+created.ID, `{"eventTypes":["FLEET_STATE_DOWNLOADING"]}`, &p)
		if code != 400 || p.fields() != "$.eventTypes[0]" {
			t.Errorf("PATCH with a type never delivered: status %d, fields %q", code, p.fields())
		}
		all, _ := json.Marshal(webhook.EventTypes)
		var ok webhook.Subscription
		code = call(t, srv, admin, "PATCH", "/v1/admin/subscriptions/"+created.ID, `{"eventTypes":`+string(all)+`}`, &ok)
		if code != 200 || len(ok.EventTypes) != len(webhook.EventTypes) {
			t.Errorf("PATCH with every delivered type: status %d, %v", code, ok.EventTypes)
		}
	})
	t.Run("without a key nothing is answered", func(t *testing.T) {
		if code := call(t, srv, "", "GET", "/v1/admin/subscriptions", "", nil); code != 401 {
			t.Errorf("GET without a key: %d", code)
		}
	})
	t.Run("a read-only key may read but not write", func(t *testing.T) {
		if code := call(t, srv, ro, "POST", "/v1/admin/subscriptions", `{"name":"x","url":"http://a.example"}`, nil); code != 403 {
			t.Errorf("POST as read-only: %d", code)
		}
		if code := call(t, srv, ro, "DELETE", "/v1/admin/subscriptions/"+created.ID, "", nil); code != 403 {
			t.Errorf("DELETE as read-only: %d", code)
		}
	})
	t.Run("GET lists by pages, PATCH changes what it names", func(t *testing.T) {
		call(t, srv, admin, "POST", "/v1/admin/subscriptions", `{"name":"second","url":"https://hooks.example.com/x","enabled":false}`, nil)
		var page webhook.Page[webhook.Subscription]
		call(t, srv, ro, "GET", "/v1/admin/subscriptions?limit=1", "", &page)
		if len(page.Items) != 1 || page.NextToken == "" {
			t.Fatalf("first page %+v", page)
		}
		var rest webhook.Page[webhook.Subscription]
		call(t, srv, ro, "GET", "/v1/admin/subscriptions?limit=1&nextToken="+page.NextToken, "", &rest)
		if len(rest.Items) != 1 || rest.NextToken != "" || rest.Items[0].ID == page.Items[0].ID {
			t.Errorf("second page %+v", rest)
		}
		var p problem
		if code := call(t, srv, ro, "GET", "/v1/admin/subscriptions?limit=0&nextToken=@@", "", &p); code != 400 || p.fields() != "limit nextToken" {
			t.Errorf("bad paging: %d %q", code, p.fields())
		}
		var got webhook.Subscription
		call(t, srv, admin, "PATCH", "/v1/admin/subscriptions/"+created.ID, `{"eventTypes":[],"enabled":false}`, &got)
		if got.Enabled || len(got.EventTypes) != 0 || got.URL != created.URL {
			t.Errorf("after PATCH: %+v", got)
		}
	})
	t.Run("rotation, deliveries, dead letters and redrive answer", func(t *testing.T) {
		var rot webhook.Created
		if code := call(t, srv, admin, "POST", "/v1/admin/subscriptions/"+created.ID+"/secret/rotate", "", &rot); code != 200 || rot.Secret == created.Secret {
			t.Errorf("rotate: %d %+v", code, rot)
		}
		var attempts struct{ Attempts []webhook.Attempt }
		if code := call(t, srv, ro, "GET", "/v1/admin/subscriptions/"+created.ID+"/deliveries", "", &attempts); code != 200 || attempts.Attempts == nil {
			t.Errorf("deliveries: %d %+v", code, attempts)
		}
		var letters webhook.Page[webhook.DeadLetter]
		if code := call(t, srv, ro, "GET", "/v1/admin/subscriptions/"+created.ID+"/dead-letters", "", &letters); code != 200 || letters.Items == nil {
			t.Errorf("dead letters: %d %+v", code, letters)
		}
		var red webhook.Redriven
		if code := call(t, srv, admin, "POST", "/v1/admin/subscriptions/"+created.ID+"/dead-letters/redrive", "", &red); code != 200 || red.Redriven != 0 {
			t.Errorf("redrive: %d %+v", code, red)
		}
	})
	t.Run("DELETE removes the subscription; then it is 404", func(t *testing.T) {
		if code := call(t, srv, admin, "DELETE", "/v1/admin/subscriptions/"+created.ID, "", nil); code != 204 {
			t.Errorf("DELETE: %d", code)
		}
		for _, path := range []string{"", "/deliveries", "/dead-letters"} {
			if code := call(t, srv, admin, "GET", "/v1/admin/subscriptions/"+created.ID+path, "", nil); code != 404 {
				t.Errorf("GET %s after DELETE: %d", path, code)
			}
		}
		if code := call(t, srv, admin, "PATCH", "/v1/admin/subscriptions/"+created.ID, `{}`, nil); code != 404 {
			t.Errorf("PATCH after DELETE: %d", code)
		}
	})
}
