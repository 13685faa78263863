package server_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/server"
	"github.com/musterhq/muster/internal/webhook/sign"
)

// A webhook provisioner's URL is the operator's configuration: it is
// checked when the server starts, with the safe dialer's rules, and may
// name a private network without --webhook-allow-private (which is about
// the URLs studios give), but never a cloud metadata service.
func TestAProvisionerURLIsCheckedWhenTheServerStarts(t *testing.T) {
	spec := func(url string) string {
		return `{"custom-a": {"kind": "webhook", "url": "` + url + `", "secret": "` + sign.NewSecret() + `"}}`
	}
	start := func(provisioners string) error {
		cfg := server.Config{DataDir: t.TempDir(), SDKListen: "127.0.0.1:0", AdminAccessKeyID: benchKeyID, AdminSecretAccessKey: benchSecret, CapacityProvisioners: provisioners}
		srv, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			srv.Close()
		}
		return err
	}
	t.Run("a metadata address stops the server starting", func(t *testing.T) {
		err := start(spec("http://169.254.169.254/latest/meta-data/"))
		if err == nil || !strings.Contains(err.Error(), "--capacity-provisioners") || !strings.Contains(err.Error(), "a cloud metadata address") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a private address is accepted without --webhook-allow-private", func(t *testing.T) {
		if err := start(spec("http://10.20.30.40:8080/hosts")); err != nil {
			t.Fatal(err)
		}
	})
}
