package player_test

import (
	"net/http"
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
	e.do(t, "GET", "/v1/admin/hooks/no-such-id", admin, "", nil).Want(http.StatusNotFound)
	e.do(t, "DELETE", base, admin, "", nil).Want(http.StatusNoContent)
}
