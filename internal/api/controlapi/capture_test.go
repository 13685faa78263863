package controlapi_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

var updateSeeds = flag.Bool("update", false, "rewrite the fuzz seed corpora captured from the real SDK")

// TestCaptureSDKRequests records what the real Go SDK sends for each
// operation. With -update it writes the bodies as seeds of FuzzDecodeCBOR
// and one Authorization header as a seed of sigv4's FuzzParseAuthorization
// (captured here because this is where the real client runs).
func TestCaptureSDKRequests(t *testing.T) {
	e := newEnv(t, 0)
	rw := &bodyRewriter{}
	c := e.client(adminKey, adminSecret, func(o *sdk.Options) { o.HTTPClient = httpClient(rw) })
	ctx := context.Background()
	at := time.UnixMilli(1469498468057)
	calls := []func() error{
		func() error {
			_, err := c.CreateLocation(ctx, &sdk.CreateLocationInput{LocationName: aws.String("custom-seed"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("")}}})
			return err
		},
		func() error {
			_, err := c.ListLocations(ctx, &sdk.ListLocationsInput{Filters: []types.LocationFilter{types.LocationFilterCustom}, Limit: aws.Int32(5), NextToken: aws.String("custom-a")})
			return err
		},
		func() error {
			_, err := c.DeleteLocation(ctx, &sdk.DeleteLocationInput{LocationName: aws.String("custom-seed")})
			return err
		},
		func() error {
			_, err := c.DescribeFleetEvents(ctx, &sdk.DescribeFleetEventsInput{FleetId: aws.String("fleet-1"), StartTime: aws.Time(at), EndTime: aws.Time(at.Add(time.Hour)), Limit: aws.Int32(10)})
			return err
		},
		func() error {
			_, err := c.StartGameSessionPlacement(ctx, &sdk.StartGameSessionPlacementInput{PlacementId: aws.String("pl-1"), GameSessionQueueName: aws.String("main"), MaximumPlayerSessionCount: aws.Int32(4),
				PlayerLatencies: []types.PlayerLatency{{PlayerId: aws.String("p1"), RegionIdentifier: aws.String("custom-home"), LatencyInMilliseconds: aws.Float32(12.5)}}})
			return err
		},
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if len(rw.seen) != len(calls) {
		t.Fatalf("captured %d requests, want %d", len(rw.seen), len(calls))
	}
	if !*updateSeeds {
		return
	}
	for _, s := range rw.seen {
		writeSeed(t, filepath.Join("testdata", "fuzz", "FuzzDecodeCBOR", "sdk-"+s.op), fmt.Sprintf("[]byte(%q)", s.body))
	}
	writeSeed(t, filepath.Join("..", "..", "sigv4", "testdata", "fuzz", "FuzzParseAuthorization", "sdk-"+rw.seen[0].op), fmt.Sprintf("string(%q)", rw.seen[0].authorization))
}

func writeSeed(t *testing.T, path, value string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("go test fuzz v1\n"+value+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
