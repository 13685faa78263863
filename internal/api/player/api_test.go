package player_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/identity/identitytest"
	"github.com/musterhq/muster/internal/server"
)

func TestAuthorizationMatrix(t *testing.T) {
	e := newAPI(t, nil)
	alice, bob := e.player(t), e.player(t)
	ro := e.readOnlyKey(t)
	e.do(t, "PATCH", "/v1/admin/players/"+alice.IdentityID, admin, `{"attributes":{"skill":{"N":20}}}`, nil).Want(200)
	e.do(t, "PATCH", "/v1/admin/players/"+bob.IdentityID, admin, `{"attributes":{"skill":{"N":30}}}`, nil).Want(200)

	callers := []struct{ name, authz string }{
		{"no token", ""},
		{"a player", alice.bearer()},
		{"another player", bob.bearer()},
		{"a read-only key", ro},
		{"an admin key", admin},
	}
	type route struct {
		method, path, body string
		// want is the status per caller, in the order of callers.
		want [5]int
	}
	a := alice.IdentityID
	routes := []route{
		{"GET", "/v1/players/me", "", [5]int{401, 200, 200, 401, 401}},
		{"PATCH", "/v1/players/me", `{"data":{"displayName":"x"}}`, [5]int{401, 200, 200, 401, 401}},
		{"GET", "/v1/admin/players/" + a, "", [5]int{401, 401, 401, 200, 200}},
		{"PATCH", "/v1/admin/players/" + a, `{"data":{"note":"x"}}`, [5]int{401, 401, 401, 403, 200}},
		{"POST", "/v1/identity/developer", `{"userId":"user-1"}`, [5]int{401, 401, 401, 403, 0}},
		{"DELETE", "/v1/admin/players/" + a, "", [5]int{401, 401, 401, 403, 204}},
	}
	for _, rt := range routes {
		for i, c := range callers {
			t.Run(rt.method+" "+strings.Replace(rt.path, a, "{alice}", 1)+" by "+c.name, func(t *testing.T) {
				r := e.do(t, rt.method, rt.path, c.authz, rt.body, nil)
				want := rt.want[i]
				if want == 0 { // a first or later developer sign-in
					if r.Status != 200 && r.Status != 201 {
						t.Fatalf("status %d: %s", r.Status, r.Body)
					}
					return
				}
				r.Want(want)
				if want == 200 && rt.path == "/v1/players/me" {
					// A player sees and changes only its own record.
					var rec struct{ IdentityID string }
					r.Decode(&rec)
					self := map[string]string{"a player": alice.IdentityID, "another player": bob.IdentityID}[c.name]
					if rec.IdentityID != self {
						t.Fatalf("%s got the record of %s", c.name, rec.IdentityID)
					}
				}
			})
		}
	}
	// Bob's changes never touched Alice's record, and vice versa.
	var rec struct {
		Data map[string]string
	}
	e.do(t, "GET", "/v1/players/me", bob.bearer(), "", nil).Want(200).Decode(&rec)
	if rec.Data["displayName"] != "x" || rec.Data["note"] != "" {
		t.Fatalf("bob's record %+v", rec)
	}
}

func TestAccessTokensAreCheckedOnThePlayerAPI(t *testing.T) {
	e := newAPI(t, nil)
	p := e.player(t)
	parts := strings.Split(p.AccessToken, ".")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged := identitytest.Sign(t, jose.RS256, key, "x", map[string]any{"sub": p.IdentityID, "iss": "muster", "aud": identity.Audience, "exp": time.Now().Add(time.Hour).Unix()})
	for _, tt := range []struct{ name, authz string }{
		{"a token with its signature cut off", "Bearer " + parts[0] + "." + parts[1] + "."},
		{"a token signed by someone else", "Bearer " + forged},
		{"alg none", "Bearer " + parts[0][:0] + "eyJhbGciOiJub25lIn0." + parts[1] + "."},
		{"an empty bearer", "Bearer "},
		{"basic auth", "Basic " + p.AccessToken},
		{"an operator key", admin},
		{"the refresh token", "Bearer " + p.RefreshToken},
	} {
		t.Run(tt.name+" is 401", func(t *testing.T) {
			r := e.do(t, "GET", "/v1/players/me", tt.authz, "", nil).Want(401)
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("no WWW-Authenticate")
			}
			r.Problem()
		})
	}
	t.Run("an expired token is 401", func(t *testing.T) {
		e.do(t, "POST", "/v1/admin/clock/advance", admin, `{"seconds":3600}`, nil).Want(200)
		e.do(t, "GET", "/v1/players/me", p.bearer(), "", nil).Want(401)
	})
}

func TestIdentityFlows(t *testing.T) {
	e := newAPI(t, nil)
	t.Run("a device gets the same identity again, and a wrong secret is refused", func(t *testing.T) {
		var first, again tokens
		e.do(t, "POST", "/v1/identity/anonymous", "", `{"deviceId":"phone-1","deviceSecret":"0123456789abcdef"}`, nil).Want(201).Decode(&first)
		e.do(t, "POST", "/v1/identity/anonymous", "", `{"deviceId":"phone-1","deviceSecret":"0123456789abcdef"}`, nil).Want(200).Decode(&again)
		if again.IdentityID != first.IdentityID || first.ExpiresIn != 3600 {
			t.Fatalf("%+v then %+v", first, again)
		}
		e.do(t, "POST", "/v1/identity/anonymous", "", `{"deviceId":"phone-1","deviceSecret":"0123456789abcdeX"}`, nil).Want(401)
		_, fields := e.do(t, "POST", "/v1/identity/anonymous", "", `{"deviceId":"phone-1"}`, nil).Want(400).Problem()
		if len(fields) != 1 || fields[0] != "$.deviceSecret" {
			t.Fatalf("fields %v", fields)
		}
	})
	t.Run("refresh tokens rotate and reuse revokes the chain", func(t *testing.T) {
		p := e.player(t)
		var next tokens
		e.do(t, "POST", "/v1/identity/token", "", `{"refreshToken":"`+p.RefreshToken+`"}`, nil).Want(200).Decode(&next)
		if next.IdentityID != p.IdentityID || next.RefreshToken == p.RefreshToken {
			t.Fatalf("%+v", next)
		}
		e.do(t, "GET", "/v1/players/me", next.bearer(), "", nil).Want(200)
		var third tokens
		e.do(t, "POST", "/v1/identity/token", "", `{"refreshToken":"`+next.RefreshToken+`"}`, nil).Want(200).Decode(&third)
		// p's token is no longer the last exchanged (whose lost answer may
		// be retried once): presenting it is reuse.
		e.do(t, "POST", "/v1/identity/token", "", `{"refreshToken":"`+p.RefreshToken+`"}`, nil).Want(401)
		e.do(t, "POST", "/v1/identity/token", "", `{"refreshToken":"`+third.RefreshToken+`"}`, nil).Want(401)
		e.do(t, "GET", "/v1/players/me", third.bearer(), "", nil).Want(401)
	})
	t.Run("logout revokes the session", func(t *testing.T) {
		p := e.player(t)
		e.do(t, "POST", "/v1/identity/logout", "", `{"refreshToken":"`+p.RefreshToken+`"}`, nil).Want(204)
		e.do(t, "GET", "/v1/players/me", p.bearer(), "", nil).Want(401)
		e.do(t, "POST", "/v1/identity/token", "", `{"refreshToken":"`+p.RefreshToken+`"}`, nil).Want(401)
		e.do(t, "POST", "/v1/identity/logout", "", `{"refreshToken":"`+p.RefreshToken+`"}`, nil).Want(401)
	})
	t.Run("a developer identity is stable", func(t *testing.T) {
		var a, b tokens
		e.do(t, "POST", "/v1/identity/developer", admin, `{"userId":"studio-user-7"}`, nil).Want(201).Decode(&a)
		e.do(t, "POST", "/v1/identity/developer", admin, `{"userId":"studio-user-7"}`, nil).Want(200).Decode(&b)
		if a.IdentityID != b.IdentityID {
			t.Fatal("the developer identity changed")
		}
		e.do(t, "GET", "/v1/players/me", a.bearer(), "", nil).Want(200)
	})
	t.Run("the JWKS holds the public signing key", func(t *testing.T) {
		var set jose.JSONWebKeySet
		r := e.do(t, "GET", "/.well-known/jwks.json", "", "", nil).Want(200)
		r.Decode(&set)
		if len(set.Keys) != 1 || !set.Keys[0].IsPublic() {
			t.Fatalf("%+v", set)
		}
		// A new key signs only once copies cached before it was published
		// have expired, so the set may be cached no longer than that allows.
		want := fmt.Sprintf("public, max-age=%d", int(identity.JWKSMaxAge.Seconds()))
		if got := r.Header.Get("Cache-Control"); got != want || identity.KeyActivationDelay < identity.JWKSMaxAge+identity.MaxRefreshInterval {
			t.Fatalf("Cache-Control %q, want %q within the activation delay %v", got, want, identity.KeyActivationDelay)
		}
	})
}

func TestOIDCSignInOverHTTP(t *testing.T) {
	idp := identitytest.NewIssuer(t)
	e := newAPI(t, func(c *server.Config) {
		c.Player.OIDCProviders = []identity.OIDCProvider{{Name: "acme", Issuer: idp.Server.URL, ClientID: "game"}}
	})
	// The server's fake clock starts at the real time.
	idToken := func(aud string) string {
		return idp.Token(t, idp.Claims("alice", aud, time.Now()))
	}
	var a, b tokens
	e.do(t, "POST", "/v1/identity/oidc", "", `{"provider":"acme","idToken":"`+idToken("game")+`"}`, nil).Want(201).Decode(&a)
	e.do(t, "POST", "/v1/identity/oidc", "", `{"provider":"acme","idToken":"`+idToken("game")+`"}`, nil).Want(200).Decode(&b)
	if a.IdentityID != b.IdentityID {
		t.Fatal("the same subject got two identities")
	}
	e.do(t, "POST", "/v1/identity/oidc", "", `{"provider":"acme","idToken":"`+idToken("another-game")+`"}`, nil).Want(401)
	_, fields := e.do(t, "POST", "/v1/identity/oidc", "", `{"provider":"nope","idToken":"x"}`, nil).Want(400).Problem()
	if len(fields) != 1 || fields[0] != "$.provider" {
		t.Fatalf("fields %v", fields)
	}
	// A provider that cannot be reached is 503 while it is down.
	e2 := newAPI(t, func(c *server.Config) {
		c.Player.OIDCProviders = []identity.OIDCProvider{{Name: "gone", Issuer: "http://127.0.0.1:1", ClientID: "game"}}
	})
	e2.do(t, "POST", "/v1/identity/oidc", "", `{"provider":"gone","idToken":"x.y.z"}`, nil).Want(503)
}

func TestPlayerRecords(t *testing.T) {
	e := newAPI(t, nil)
	p := e.player(t)
	id := p.IdentityID
	t.Run("a new player has an empty record at version 0", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/players/me", p.bearer(), "", nil).Want(200)
		if r.Header.Get("ETag") != `"0"` || string(r.Body) != `{"identityId":"`+id+`","attributes":{},"data":{},"version":0}`+"\n" {
			t.Fatalf("%s %s", r.Header.Get("ETag"), r.Body)
		}
		e.do(t, "GET", "/v1/admin/players/"+id, admin, "", nil).Want(404).Problem()
	})
	t.Run("operators merge attributes and data", func(t *testing.T) {
		r := e.do(t, "PATCH", "/v1/admin/players/"+id, admin, `{"attributes":{"skill":{"N":20},"modes":{"SL":["ranked"]}},"data":{"coins":5}}`, nil).Want(200)
		if string(r.Body) != `{"identityId":"`+id+`","attributes":{"modes":{"SL":["ranked"]},"skill":{"N":20}},"data":{"coins":5},"version":1}`+"\n" {
			t.Fatalf("%s", r.Body)
		}
		r = e.do(t, "PATCH", "/v1/admin/players/"+id, admin, `{"attributes":{"modes":null,"rank":{"SDM":{"eu":1.5}}}}`, nil).Want(200)
		var rec struct {
			Attributes map[string]json.RawMessage
			Version    int
		}
		r.Decode(&rec)
		if len(rec.Attributes) != 2 || rec.Version != 2 || r.Header.Get("ETag") != `"2"` {
			t.Fatalf("%s", r.Body)
		}
	})
	t.Run("a player cannot raise its own skill or write other keys", func(t *testing.T) {
		code, _ := e.do(t, "PATCH", "/v1/players/me", p.bearer(), `{"attributes":{"skill":{"N":9999}}}`, nil).Want(403).Problem()
		if code != "Forbidden" {
			t.Fatal(code)
		}
		// Even empty attributes are refused rather than ignored.
		e.do(t, "PATCH", "/v1/players/me", p.bearer(), `{"attributes":{}}`, nil).Want(403)
		e.do(t, "PATCH", "/v1/players/me", p.bearer(), `{"data":{"coins":1000000}}`, nil).Want(403)
		e.do(t, "PATCH", "/v1/players/me", p.bearer(), `{"data":{"displayName":"Ann"}}`, nil).Want(200)
		var rec struct {
			Attributes map[string]struct{ N float64 }
			Data       map[string]any
		}
		e.do(t, "GET", "/v1/admin/players/"+id, e.readOnlyKey(t), "", nil).Want(200).Decode(&rec)
		if rec.Attributes["skill"].N != 20 || rec.Data["coins"] != 5.0 || rec.Data["displayName"] != "Ann" {
			t.Fatalf("%+v", rec)
		}
	})
	t.Run("If-Match gives optimistic concurrency", func(t *testing.T) {
		e.do(t, "PATCH", "/v1/admin/players/"+id, admin, `{"data":{"a":1}}`, map[string]string{"If-Match": `"1"`}).Want(412).Problem()
		r := e.do(t, "PATCH", "/v1/admin/players/"+id, admin, `{"data":{"a":1}}`, map[string]string{"If-Match": `"3"`}).Want(200)
		e.do(t, "PATCH", "/v1/players/me", p.bearer(), `{"data":{"displayName":"Bo"}}`, map[string]string{"If-Match": `"3"`}).Want(412)
		e.do(t, "PATCH", "/v1/players/me", p.bearer(), `{"data":{"displayName":"Bo"}}`, map[string]string{"If-Match": r.Header.Get("ETag")}).Want(200)
		_, fields := e.do(t, "PATCH", "/v1/admin/players/"+id, admin, `{"data":{"a":1}}`, map[string]string{"If-Match": "*"}).Want(400).Problem()
		if len(fields) != 1 || fields[0] != "If-Match" {
			t.Fatalf("fields %v", fields)
		}
		e.do(t, "DELETE", "/v1/admin/players/"+id, admin, "", map[string]string{"If-Match": `"1"`}).Want(412)
	})
	t.Run("records survive a restart, then a delete removes them", func(t *testing.T) {
		e.Restart()
		var rec struct{ Version int }
		e.do(t, "GET", "/v1/players/me", p.bearer(), "", nil).Want(200).Decode(&rec)
		if rec.Version != 5 {
			t.Fatalf("version %d after restart", rec.Version)
		}
		e.do(t, "DELETE", "/v1/admin/players/"+id, admin, "", nil).Want(204)
		e.do(t, "DELETE", "/v1/admin/players/"+id, admin, "", nil).Want(404)
	})
	t.Run("a record with a TTL expires", func(t *testing.T) {
		e.do(t, "PATCH", "/v1/admin/players/"+id, admin, `{"data":{"a":1},"ttlSeconds":60}`, nil).Want(200)
		e.do(t, "POST", "/v1/admin/clock/advance", admin, `{"seconds":61}`, nil).Want(200)
		e.do(t, "GET", "/v1/admin/players/"+id, admin, "", nil).Want(404)
	})
}

func TestRequestHygiene(t *testing.T) {
	e := newAPI(t, func(c *server.Config) { c.Player.MaxBody = 4096 })
	p := e.player(t)
	id := p.IdentityID
	for _, tt := range []struct {
		name, method, path, authz, body, field string
	}{
		{"an unknown field", "POST", "/v1/identity/token", "", `{"refreshToken":"x","extra":1}`, "$.extra"},
		{"a wrongly typed field", "POST", "/v1/identity/token", "", `{"refreshToken":42}`, "$.refreshToken"},
		{"a missing required field", "POST", "/v1/identity/oidc", "", `{"provider":"acme"}`, "$.idToken"},
		{"a duplicate key", "POST", "/v1/identity/token", "", `{"refreshToken":"a","refreshToken":"b"}`, "$.refreshToken"},
		{"a nested unknown member", "PATCH", "/v1/admin/players/" + id, admin, `{"attributes":{"skill":{"X":1}}}`, "$.attributes.skill.X"},
		{"a nested wrong type", "PATCH", "/v1/admin/players/" + id, admin, `{"attributes":{"skill":{"SL":["a",1]}}}`, "$.attributes.skill.SL[1]"},
		{"an invalid AttributeValue", "PATCH", "/v1/admin/players/" + id, admin, `{"attributes":{"skill":{"N":1,"S":"x"}}}`, "$.attributes.skill"},
		{"a negative TTL", "PATCH", "/v1/admin/players/" + id, admin, `{"ttlSeconds":-1}`, "$.ttlSeconds"},
		{"malformed JSON", "PATCH", "/v1/players/me", p.bearer(), `{"data":`, "$.data"},
		{"trailing data", "PATCH", "/v1/players/me", p.bearer(), `{"data":{}} {}`, "$"},
		{"an array body", "PATCH", "/v1/players/me", p.bearer(), `[]`, "$"},
	} {
		t.Run(tt.name+" is 400 naming "+tt.field, func(t *testing.T) {
			code, fields := e.do(t, tt.method, tt.path, tt.authz, tt.body, nil).Want(400).Problem()
			if code != "Invalid" || len(fields) == 0 || fields[0] != tt.field {
				t.Fatalf("code %s fields %v", code, fields)
			}
		})
	}
	t.Run("a body over the cap is 413", func(t *testing.T) {
		big := `{"data":{"displayName":"` + strings.Repeat("x", 5000) + `"}}`
		e.do(t, "PATCH", "/v1/players/me", p.bearer(), big, nil).Want(413).Problem()
	})
	t.Run("a body that is not JSON is 415", func(t *testing.T) {
		e.do(t, "POST", "/v1/identity/token", "", `refreshToken=x`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}).Want(415).Problem()
	})
	t.Run("problems carry the request id", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/players/me", "", "", nil).Want(401)
		var pr struct{ RequestID string }
		r.Decode(&pr)
		if pr.RequestID == "" || pr.RequestID != r.Header.Get("X-Request-Id") {
			t.Fatalf("problem request id %q, header %q", pr.RequestID, r.Header.Get("X-Request-Id"))
		}
	})
	t.Run("tokens and secrets never reach the logs", func(t *testing.T) {
		var dev tokens
		e.do(t, "POST", "/v1/identity/anonymous", "", `{"deviceId":"d-1","deviceSecret":"s3cret-device-value"}`, nil).Want(201).Decode(&dev)
		e.do(t, "POST", "/v1/identity/token", "", `{"refreshToken":"`+dev.RefreshToken+`"}`, nil).Want(200)
		e.do(t, "POST", "/v1/identity/token", "", `{"refreshToken":"`+dev.RefreshToken+`"}`, nil).Want(200) // the one retry a lost answer has
		e.do(t, "POST", "/v1/identity/token", "", `{"refreshToken":"`+dev.RefreshToken+`"}`, nil).Want(401) // reuse: logged as a warning
		logs := e.logs.String()
		if !strings.Contains(logs, "request_id=") {
			t.Fatal("requests are not logged with their id")
		}
		for _, s := range []string{p.AccessToken, p.RefreshToken, dev.AccessToken, dev.RefreshToken, "s3cret-device-value", adminSecret} {
			if strings.Contains(logs, s) {
				t.Fatalf("a secret is in the logs: %q", s)
			}
		}
	})
}

func TestRateLimits(t *testing.T) {
	e := newAPI(t, func(c *server.Config) {
		c.Player.IPRate, c.Player.IPBurst = 1000, 1000
		c.Player.IdentityRate, c.Player.IdentityBurst = 1, 3
	})
	p := e.player(t)
	for range 3 {
		e.do(t, "GET", "/v1/players/me", p.bearer(), "", nil).Want(200)
	}
	r := e.do(t, "GET", "/v1/players/me", p.bearer(), "", nil).Want(429)
	if r.Header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	r.Problem()
	// Another player has its own bucket; time refills this one.
	e.do(t, "GET", "/v1/players/me", e.player(t).bearer(), "", nil).Want(200)
	e.do(t, "POST", "/v1/admin/clock/advance", admin, `{"seconds":1}`, nil).Want(200)
	e.do(t, "GET", "/v1/players/me", p.bearer(), "", nil).Want(200)

	ip := newAPI(t, func(c *server.Config) { c.Player.IPRate, c.Player.IPBurst = 1, 2 })
	ip.do(t, "POST", "/v1/identity/anonymous", "", "", nil).Want(201)
	ip.do(t, "POST", "/v1/identity/anonymous", "", "", nil).Want(201)
	r = ip.do(t, "POST", "/v1/identity/anonymous", "", "", nil).Want(429)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

func TestCORS(t *testing.T) {
	e := newAPI(t, func(c *server.Config) { c.Player.CORSOrigins = []string{"https://game.example"} })
	r := e.do(t, "OPTIONS", "/v1/players/me", "", "", map[string]string{"Origin": "https://game.example", "Access-Control-Request-Method": "PATCH"}).Want(204)
	if r.Header.Get("Access-Control-Allow-Origin") != "https://game.example" || !strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight headers %v", r.Header)
	}
	r = e.do(t, "OPTIONS", "/v1/players/me", "", "", map[string]string{"Origin": "https://evil.example"}).Want(204)
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("an unlisted origin is allowed")
	}
	r = e.do(t, "POST", "/v1/identity/anonymous", "", "", map[string]string{"Origin": "https://game.example"}).Want(201)
	if r.Header.Get("Access-Control-Allow-Origin") != "https://game.example" || !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("headers %v", r.Header)
	}
	// Operator routes are never opened to browsers.
	r = e.do(t, "GET", "/v1/admin/players/x", admin, "", map[string]string{"Origin": "https://game.example"})
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("an admin route answers CORS")
	}
}

func TestTokensSurviveARestart(t *testing.T) {
	e := newAPI(t, nil)
	p := e.player(t)
	var before, after json.RawMessage
	e.do(t, "GET", "/.well-known/jwks.json", "", "", nil).Want(200).Decode(&before)
	e.Restart()
	e.do(t, "GET", "/.well-known/jwks.json", "", "", nil).Want(200).Decode(&after)
	if string(before) != string(after) {
		t.Fatal("the signing keys changed across a restart")
	}
	e.do(t, "GET", "/v1/players/me", p.bearer(), "", nil).Want(200)
	e.do(t, "POST", "/v1/identity/token", "", `{"refreshToken":"`+p.RefreshToken+`"}`, nil).Want(200)
}

func TestABadOIDCProvidersFileStopsTheServer(t *testing.T) {
	file := filepath.Join(t.TempDir(), "providers.json")
	os.WriteFile(file, []byte(`[{"name":"acme","issuer":"https://idp.example"}]`), 0o600)
	cfg := server.Config{DataDir: t.TempDir(), Player: server.PlayerConfig{OIDCProvidersFile: file}}
	_, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "--oidc-providers") || !strings.Contains(err.Error(), "$[0].clientId") {
		t.Fatalf("got %v, want an error naming --oidc-providers and $[0].clientId", err)
	}
}
