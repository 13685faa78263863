package server_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/server"
)

// newServer assembles a server served in process (no listener settings).
// newServer serves the whole server, with the bench admin key, on a real
// listener; change adjusts its configuration.
func newServer(t *testing.T, change ...func(*server.Config)) (*server.Server, string) {
	t.Helper()
	cfg := server.Config{DataDir: t.TempDir(), SDKListen: "127.0.0.1:0", AdminAccessKeyID: benchKeyID, AdminSecretAccessKey: benchSecret}
	for _, c := range change {
		c(&cfg)
	}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

// Tag keys with AWS's reserved prefix are refused by the create that
// carries them and by TagResource, with GameLift's TaggingFailedException.
func TestReservedTagKeysAreRefusedThroughTheGoSDK(t *testing.T) {
	_, url := newServer(t)
	gl := sdkClient(url)
	ctx := context.Background()
	_, err := gl.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String("custom-tagged"),
		Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("me")}}})
	var tf *types.TaggingFailedException
	if !errors.As(err, &tf) {
		t.Fatalf("CreateLocation: got %v, want TaggingFailedException", err)
	}
	if out, err := gl.ListLocations(ctx, &gamelift.ListLocationsInput{}); err != nil || len(out.Locations) != 0 {
		t.Fatalf("the refused location exists: %v %v", out, err)
	}
	loc, err := gl.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String("custom-tagged")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = gl.TagResource(ctx, &gamelift.TagResourceInput{ResourceARN: loc.Location.LocationArn,
		Tags: []types.Tag{{Key: aws.String("AWS:Owner"), Value: aws.String("me")}}})
	if !errors.As(err, &tf) {
		t.Fatalf("TagResource: got %v, want TaggingFailedException", err)
	}
}
