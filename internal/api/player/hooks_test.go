package player_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestHookRoutesAnswerAsDocumented drives the operator routes of studio
// hooks (package hook) through the real server.
func TestHookRoutesAnswerAsDocumented(t *testing.T) {
	e := newAPI(t, nil)
	var h struct{ ID string }
	e.do(t, "POST", "/v1/admin/hooks", admin, `{"url":"https://hooks.example.com/ticket","point":"beforeTicket","failMode":"failOpen"}`, nil).
		Want(http.StatusCreated).Decode(&h)
	e.do(t, "POST", "/v1/admin/hooks", admin, `{"url":"https://hooks.example.com/ticket","point":"beforeTicket","failMode":"never"}`, nil).
		Want(http.StatusBadRequest)
	base := "/v1/admin/hooks/" + h.ID
	e.do(t, "GET", "/v1/admin/hooks", admin, "", nil).Want(http.StatusOK)
	e.do(t, "GET", base, admin, "", nil).Want(http.StatusOK)
	e.do(t, "PATCH", base, admin, `{"enabled":false,"timeoutMs":1000}`, nil).Want(http.StatusOK)
	e.do(t, "POST", base+"/secret/rotate", admin, "", nil).Want(http.StatusOK)
	e.do(t, "GET", "/v1/admin/hooks/no-such-id", admin, "", nil).Want(http.StatusNotFound)
	e.do(t, "DELETE", base, admin, "", nil).Want(http.StatusNoContent)
}

// A rotation answers the hook with a new secret, once: reads never show
// the new secret nor the one rotated out (which keeps signing for the
// overlap, see package hook's tests). It takes the admin role, as every
// change of a hook does, and an unknown hook is 404, as at the other
// routes.
func TestAHooksSecretIsRotatedByAnAdminAndNeverRead(t *testing.T) {
	e := newAPI(t, nil)
	var h struct{ ID, Secret string }
	e.do(t, "POST", "/v1/admin/hooks", admin, `{"url":"https://hooks.example.com/signin","point":"beforeSignIn","failMode":"failClosed","order":3}`, nil).
		Want(http.StatusCreated).Decode(&h)
	base := "/v1/admin/hooks/" + h.ID
	var rot struct {
		ID, Secret string
		Order      int
	}
	e.do(t, "POST", base+"/secret/rotate", admin, "", nil).Want(http.StatusOK).Decode(&rot)
	if rot.ID != h.ID || rot.Order != 3 || rot.Secret == h.Secret || !strings.HasPrefix(rot.Secret, "whsec_") {
		t.Fatalf("the rotation answers %+v for hook %s", rot, h.ID)
	}
	for _, path := range []string{base, "/v1/admin/hooks"} {
		body := string(e.do(t, "GET", path, admin, "", nil).Want(http.StatusOK).Body)
		for _, s := range []string{h.Secret, rot.Secret} {
			if key := strings.TrimPrefix(s, "whsec_"); strings.Contains(body, key) || strings.Contains(body, "whsec_") {
				t.Fatalf("GET %s shows a secret: %s", path, body)
			}
		}
	}
	e.do(t, "POST", base+"/secret/rotate", e.readOnlyKey(t), "", nil).Want(http.StatusForbidden)
	e.do(t, "POST", "/v1/admin/hooks/no-such-id/secret/rotate", admin, "", nil).Want(http.StatusNotFound)
}
