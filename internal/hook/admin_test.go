package hook_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/hook"
)

func TestOperatorsRegisterHooksThatSurviveARestart(t *testing.T) {
	e := newEnv(t)
	h := e.register(`{"url":"http://127.0.0.1:9/check","point":"beforeTicket","failMode":"failClosed","order":2,"configurations":["duel"]}`)
	if !strings.HasPrefix(h.Secret, "whsec_") || !strings.HasPrefix(h.ID, "hook-") {
		t.Fatalf("created %+v", h)
	}
	var got hook.Hook
	e.do("GET", "/v1/admin/hooks/"+h.ID, admin, "").want(http.StatusOK).decode(&got)
	if got.TimeoutMs != hook.DefaultTimeoutMs || got.FailMode != hook.FailClosed || got.Order != 2 || !got.Enabled || len(got.Configurations) != 1 {
		t.Fatalf("read %+v", got)
	}
	e.do("PATCH", "/v1/admin/hooks/"+h.ID, admin, `{"timeoutMs":5000,"enabled":false}`).want(http.StatusOK)

	e.restart()
	var page hook.Page
	e.do("GET", "/v1/admin/hooks", admin, "").want(http.StatusOK).decode(&page)
	if len(page.Items) != 1 || page.Items[0].ID != h.ID || page.Items[0].TimeoutMs != 5000 || page.Items[0].Enabled {
		t.Fatalf("after a restart the hooks are %+v", page.Items)
	}
	if strings.Contains(string(e.do("GET", "/v1/admin/hooks/"+h.ID, admin, "").body), "whsec_") {
		t.Fatal("a read shows the secret")
	}
	e.do("DELETE", "/v1/admin/hooks/"+h.ID, admin, "").want(http.StatusNoContent)
	e.do("GET", "/v1/admin/hooks/"+h.ID, admin, "").want(http.StatusNotFound)
}

func TestABadRegistrationIsRefusedNamingTheField(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct{ name, body, field string }{
		{"an unknown point", `{"url":"https://hooks.example.com/x","point":"afterLunch","failMode":"failOpen"}`, "$.point"},
		{"a time-out over 5 s", `{"url":"https://hooks.example.com/x","point":"beforeTicket","failMode":"failOpen","timeoutMs":5001}`, "$.timeoutMs"},
		{"no fail mode", `{"url":"https://hooks.example.com/x","point":"beforeTicket"}`, "$.failMode"},
		{"an unknown fail mode", `{"url":"https://hooks.example.com/x","point":"beforeTicket","failMode":"shrug"}`, "$.failMode"},
		{"a match hook naming no configuration", `{"url":"https://hooks.example.com/x","point":"matchProposed","failMode":"failOpen"}`, "$.configurations"},
		{"a metadata address", `{"url":"https://169.254.169.254/x","point":"beforeTicket","failMode":"failOpen"}`, "$.url"},
		{"a URL with credentials", `{"url":"https://u:p@hooks.example.com/x","point":"beforeTicket","failMode":"failOpen"}`, "$.url"},
	} {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			r := e.do("POST", "/v1/admin/hooks", admin, tt.body).want(http.StatusBadRequest)
			if !strings.Contains(string(r.body), `"`+tt.field+`"`) {
				t.Fatalf("the problem does not name %s: %s", tt.field, r.body)
			}
		})
	}
	var page hook.Page
	e.do("GET", "/v1/admin/hooks", admin, "").want(http.StatusOK).decode(&page)
	if len(page.Items) != 0 {
		t.Fatalf("refused registrations were written: %+v", page.Items)
	}
	e.do("POST", "/v1/admin/hooks", "", `{}`).want(http.StatusUnauthorized)
}

func TestWithoutPrivateDestinationsAHookMustBeHTTPS(t *testing.T) {
	e := newEnv(t)
	e.stop()
	e.cfg.WebhookAllowPrivate = false
	e.start()
	r := e.do("POST", "/v1/admin/hooks", admin, `{"url":"http://hooks.example.com/x","point":"beforeTicket","failMode":"failOpen"}`).want(http.StatusBadRequest)
	if !strings.Contains(string(r.body), "https://") {
		t.Fatalf("an http:// hook is refused with %s", r.body)
	}
	e.do("POST", "/v1/admin/hooks", admin, `{"url":"https://127.0.0.1/x","point":"beforeTicket","failMode":"failOpen"}`).want(http.StatusBadRequest)
	e.do("POST", "/v1/admin/hooks", admin, `{"url":"https://hooks.example.com/x","point":"beforeTicket","failMode":"failOpen"}`).want(http.StatusCreated)
}
