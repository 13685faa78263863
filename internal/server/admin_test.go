package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"

	"github.com/musterhq/muster/internal/server/servertest"
)

// adminCall sends a /v1/admin request with the bench admin key as a bearer
// credential and returns the status and the body.
func adminCall(t *testing.T, url, method, path, body string) (int, string) {
	t.Helper()
	r := servertest.Send(t, nil, url+path, method, adminBearer, body, nil)
	return r.Status, string(r.Body)
}

func TestTheLastAdminKeyIsNotRevokedThroughTheAPI(t *testing.T) {
	_, url := newServer(t)
	status, body := adminCall(t, url, "DELETE", "/v1/admin/keys/"+benchKeyID, "")
	if status != http.StatusConflict || !strings.Contains(body, "last active admin key") || !strings.Contains(body, "create another admin key first") {
		t.Fatalf("%d %s", status, body)
	}
	status, body = adminCall(t, url, "POST", "/v1/admin/keys", `{"role":"admin","description":"successor"}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	if status, body := adminCall(t, url, "DELETE", "/v1/admin/keys/"+benchKeyID, ""); status != http.StatusNoContent {
		t.Fatalf("with a successor: %d %s", status, body)
	}
}

// Every operator write, through the control API or /v1/admin, leaves one
// OperatorAudit event naming who, what and which resource; reads and
// refused writes leave none, and no event holds a secret.
func TestOperatorWritesAreAudited(t *testing.T) {
	_, url := newServer(t)
	gl := sdkClient(url)
	ctx := context.Background()
	if _, err := gl.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String("custom-audited")}); err != nil {
		t.Fatal(err)
	}
	if _, err := gl.ListLocations(ctx, &gamelift.ListLocationsInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := gl.DeleteLocation(ctx, &gamelift.DeleteLocationInput{LocationName: aws.String("custom-nowhere")}); err == nil {
		t.Fatal("deleted a location that does not exist")
	}
	status, created := adminCall(t, url, "POST", "/v1/admin/keys", `{"role":"read-only"}`)
	if status != http.StatusCreated {
		t.Fatalf("create key: %d %s", status, created)
	}
	var key struct{ AccessKeyID, SecretAccessKey string }
	if err := json.Unmarshal([]byte(created), &key); err != nil {
		t.Fatal(err)
	}
	if status, body := adminCall(t, url, "DELETE", "/v1/admin/keys/"+key.AccessKeyID, ""); status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", status, body)
	}
	if status, _ := adminCall(t, url, "DELETE", "/v1/admin/keys/"+benchKeyID, ""); status != http.StatusConflict {
		t.Fatalf("revoking the last admin key: %d", status)
	}

	status, body := adminCall(t, url, "GET", "/v1/admin/events?type=OperatorAudit", "")
	if status != http.StatusOK {
		t.Fatalf("events: %d %s", status, body)
	}
	if strings.Contains(body, key.SecretAccessKey) || strings.Contains(body, benchSecret) {
		t.Fatalf("an audit event holds a secret: %s", body)
	}
	var out struct {
		Events []struct {
			Resource string
			Detail   struct {
				AccessKeyID string
				Operation   string
				Resources   map[string]string
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	want := []string{"CreateLocation custom-audited", "POST /v1/admin/keys /v1/admin/keys", "DELETE /v1/admin/keys/{id} /v1/admin/keys/" + key.AccessKeyID}
	if len(out.Events) != len(want) {
		t.Fatalf("%d audit events, want %d: %s", len(out.Events), len(want), body)
	}
	for i, ev := range out.Events {
		target := ev.Detail.Resources["LocationName"] + ev.Detail.Resources["path"]
		if got := ev.Detail.Operation + " " + target; got != want[i] || ev.Detail.AccessKeyID != benchKeyID || ev.Resource != benchKeyID {
			t.Errorf("event %d: %s by %s (resource %s), want %s by %s", i, got, ev.Detail.AccessKeyID, ev.Resource, want[i], benchKeyID)
		}
	}
}
