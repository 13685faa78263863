package player_test

import (
	"net/http"
	"testing"
)

// TestLeasesRouteAnswersAsDocumented: on SQLite, which one replica opens,
// the leases route says the store is not shared (that replica runs all
// background work); the three-replica test in cmd/muster reads real leases.
func TestLeasesRouteAnswersAsDocumented(t *testing.T) {
	e := newAPI(t, nil)
	var got struct {
		Shared bool
		Leases []any
	}
	e.do(t, "GET", "/v1/admin/leases", admin, "", nil).Want(http.StatusOK).Decode(&got)
	if got.Shared || got.Leases == nil || len(got.Leases) != 0 {
		t.Fatalf("GET /v1/admin/leases on SQLite = %+v, want shared false and no leases", got)
	}
	e.do(t, "GET", "/v1/admin/leases", "", "", nil).Want(http.StatusUnauthorized)
}
