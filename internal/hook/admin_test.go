package hook_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/hook"
)

func TestOperatorsRegisterHooksThatSurviveARestart(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	h := e.register(`{"url":"http://127.0.0.1:9/check","point":"beforeTicket","failMode":"failClosed","order":2,"configurations":["duel"]}`)
	if !strings.HasPrefix(h.Secret, "whsec_") || !strings.HasPrefix(h.ID, "hook-") {
		t.Fatalf("created %+v", h)
	}
	var got hook.Hook
	e.do("GET", "/v1/admin/hooks/"+h.ID, admin, "").Want(http.StatusOK).Decode(&got)
	if got.TimeoutMs != hook.DefaultTimeoutMs || got.FailMode != hook.FailClosed || got.Order != 2 || !got.Enabled || len(got.Configurations) != 1 {
		t.Fatalf("read %+v", got)
	}
	e.do("PATCH", "/v1/admin/hooks/"+h.ID, admin, `{"timeoutMs":5000,"enabled":false}`).Want(http.StatusOK)

	e.Restart()
	var page hook.Page
	e.do("GET", "/v1/admin/hooks", admin, "").Want(http.StatusOK).Decode(&page)
	if len(page.Items) != 1 || page.Items[0].ID != h.ID || page.Items[0].TimeoutMs != 5000 || page.Items[0].Enabled {
		t.Fatalf("after a restart the hooks are %+v", page.Items)
	}
	if strings.Contains(string(e.do("GET", "/v1/admin/hooks/"+h.ID, admin, "").Body), "whsec_") {
		t.Fatal("a read shows the secret")
	}
	e.do("DELETE", "/v1/admin/hooks/"+h.ID, admin, "").Want(http.StatusNoContent)
	e.do("GET", "/v1/admin/hooks/"+h.ID, admin, "").Want(http.StatusNotFound)
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
			r := e.do("POST", "/v1/admin/hooks", admin, tt.body).Want(http.StatusBadRequest)
			if !strings.Contains(string(r.Body), `"`+tt.field+`"`) {
				t.Fatalf("the problem does not name %s: %s", tt.field, r.Body)
			}
		})
	}
	var page hook.Page
	e.do("GET", "/v1/admin/hooks", admin, "").Want(http.StatusOK).Decode(&page)
	if len(page.Items) != 0 {
		t.Fatalf("refused registrations were written: %+v", page.Items)
	}
	e.do("POST", "/v1/admin/hooks", "", `{}`).Want(http.StatusUnauthorized)
}

func TestWithoutPrivateDestinationsAHookMustBeHTTPS(t *testing.T) {
	e := newEnv(t)
	e.Stop()
	e.Cfg.WebhookAllowPrivate = false
	e.Start()
	r := e.do("POST", "/v1/admin/hooks", admin, `{"url":"http://hooks.example.com/x","point":"beforeTicket","failMode":"failOpen"}`).Want(http.StatusBadRequest)
	if !strings.Contains(string(r.Body), "https://") {
		t.Fatalf("an http:// hook is refused with %s", r.Body)
	}
	e.do("POST", "/v1/admin/hooks", admin, `{"url":"https://127.0.0.1/x","point":"beforeTicket","failMode":"failOpen"}`).Want(http.StatusBadRequest)
	e.do("POST", "/v1/admin/hooks", admin, `{"url":"https://hooks.example.com/x","point":"beforeTicket","failMode":"failOpen"}`).Want(http.StatusCreated)
}

// A registration the hooks already have (same point, URL and
// configurations, in any order) and one naming a configuration that does
// not exist are refused, naming the field and why, and write nothing; a
// change that would make either is refused too. The same URL at another
// point or for other configurations is another registration.
func TestADuplicateOrAnUnknownConfigurationIsRefused(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	e.duel("solo")
	reg := func(point, configs string) string {
		return `{"url":"https://hooks.example.com/x","point":"` + point + `","failMode":"failOpen","configurations":` + configs + `}`
	}
	first := e.register(reg("beforeTicket", `["duel","solo"]`))
	narrower := e.register(reg("beforeTicket", `["duel"]`))
	e.register(reg("matchProposed", `["duel"]`))
	for _, tt := range []struct{ name, method, path, body, field, says string }{
		{"the same registration again", "POST", "/v1/admin/hooks", reg("beforeTicket", `["solo","duel"]`), "$.url", first.ID},
		{"an unknown configuration", "POST", "/v1/admin/hooks", reg("beforeTicket", `["duel","nosuch"]`), "$.configurations[1]", "no matchmaking configuration"},
		{"a configuration named twice", "POST", "/v1/admin/hooks", reg("beforeTicket", `["duel","duel"]`), "$.configurations[1]", "more than once"},
		{"a change making a duplicate", "PATCH", "/v1/admin/hooks/" + narrower.ID, `{"configurations":["solo","duel"]}`, "$.url", first.ID},
		{"a change naming an unknown configuration", "PATCH", "/v1/admin/hooks/" + narrower.ID, `{"configurations":["nosuch"]}`, "$.configurations[0]", "no matchmaking configuration"},
	} {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			r := e.Do(t, tt.method, tt.path, admin, tt.body, nil).Want(http.StatusBadRequest)
			if !strings.Contains(string(r.Body), `"`+tt.field+`"`) || !strings.Contains(string(r.Body), tt.says) {
				t.Fatalf("the problem does not name %s and say %q: %s", tt.field, tt.says, r.Body)
			}
		})
	}
	var page hook.Page
	e.do("GET", "/v1/admin/hooks", admin, "").Want(http.StatusOK).Decode(&page)
	if len(page.Items) != 3 {
		t.Fatalf("refused registrations were written: %+v", page.Items)
	}
	var got hook.Hook
	e.do("GET", "/v1/admin/hooks/"+narrower.ID, admin, "").Want(http.StatusOK).Decode(&got)
	if len(got.Configurations) != 1 {
		t.Fatalf("a refused change was written: %+v", got)
	}
	// A configuration deleted after its hook was registered does not keep
	// the operator from changing the hook otherwise, such as disabling it.
	e.control("DeleteMatchmakingConfiguration", `{"Name":"solo"}`)
	e.do("PATCH", "/v1/admin/hooks/"+first.ID, admin, `{"enabled":false}`).Want(http.StatusOK)
}
