package controlapi_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	sdk "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/aws/smithy-go"
)

// These tests drive the handler with the real AWS SDK for Go v2 GameLift
// client, which speaks Smithy RPC v2 CBOR and signs with SigV4.

func TestSDKCreatesAndListsLocations(t *testing.T) {
	e := newEnv(t, 0)
	c := e.client(adminKey, adminSecret)
	ctx := context.Background()

	for _, name := range []string{"custom-home", "custom-away", "custom-lan"} {
		out, err := c.CreateLocation(ctx, &sdk.CreateLocationInput{
			LocationName: aws.String(name),
			Tags:         []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}},
		})
		if err != nil {
			t.Fatalf("CreateLocation(%s): %v", name, err)
		}
		if got := aws.ToString(out.Location.LocationArn); got != "arn:aws:gamelift:eu-west-1:123456789012:location/"+name {
			t.Fatalf("LocationArn = %q", got)
		}
		ep := out.Location.PingBeacon.UDPEndpoint
		if aws.ToString(ep.Domain) != "beacon.muster.test" || aws.ToInt32(ep.Port) != 7770 {
			t.Fatalf("PingBeacon = %+v", ep)
		}
	}

	first, err := c.ListLocations(ctx, &sdk.ListLocationsInput{Limit: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Locations) != 2 || aws.ToString(first.Locations[0].LocationName) != "custom-away" || aws.ToString(first.NextToken) != "custom-home" {
		t.Fatalf("first page: %d locations, next %q", len(first.Locations), aws.ToString(first.NextToken))
	}
	second, err := c.ListLocations(ctx, &sdk.ListLocationsInput{Limit: aws.Int32(2), NextToken: first.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Locations) != 1 || aws.ToString(second.Locations[0].LocationName) != "custom-lan" || second.NextToken != nil {
		t.Fatalf("second page: %+v, next %v", second.Locations, second.NextToken)
	}
	if got := e.counter(t, "ListLocations", "OK"); got != 2 {
		t.Fatalf("requests_total{ListLocations,OK} = %v, want 2", got)
	}
}

func TestSDKRoundTripsTimestampsAndIntegersExactly(t *testing.T) {
	e := newEnv(t, 0)
	c := e.client(adminKey, adminSecret)
	tests := []struct {
		name  string
		start time.Time
		end   time.Time
		limit int32
	}{
		{"times with milliseconds survive", time.UnixMilli(1469498468057), time.UnixMilli(1785000000999), 7},
		{"whole seconds survive", time.Unix(1700000000, 0), time.Unix(1700000001, 0), 1},
		{"times whose float is just below the millisecond survive", time.UnixMilli(1764215100003), time.UnixMilli(1764215100009), 100},
		{"a large int64 count survives", time.UnixMilli(1), time.UnixMilli(2), math.MaxInt32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.DescribeFleetEvents(context.Background(), &sdk.DescribeFleetEventsInput{
				FleetId: aws.String("fleet-1"), StartTime: aws.Time(tt.start), EndTime: aws.Time(tt.end), Limit: aws.Int32(tt.limit),
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Events) != 2 {
				t.Fatalf("%d events", len(out.Events))
			}
			if got := aws.ToTime(out.Events[0].EventTime); !got.Equal(tt.start) {
				t.Errorf("start came back as %v, want %v", got.UnixMilli(), tt.start.UnixMilli())
			}
			if got := aws.ToTime(out.Events[1].EventTime); !got.Equal(tt.end) {
				t.Errorf("end came back as %v, want %v", got.UnixMilli(), tt.end.UnixMilli())
			}
			if got, want := aws.ToInt64(out.Events[0].Count), int64(tt.limit)*10_000_000_000; got != want {
				t.Errorf("Count = %d, want %d", got, want)
			}
			if out.Events[1].Count != nil {
				t.Errorf("an unset Count arrived as %d", *out.Events[1].Count)
			}
		})
	}
}

func TestSDKRoundTripsFloat32Members(t *testing.T) {
	e := newEnv(t, 0)
	c := e.client(adminKey, adminSecret)
	latencies := []types.PlayerLatency{
		{PlayerId: aws.String("p1"), RegionIdentifier: aws.String("custom-home"), LatencyInMilliseconds: aws.Float32(37.25)},
		{PlayerId: aws.String("p2"), RegionIdentifier: aws.String("custom-home"), LatencyInMilliseconds: aws.Float32(0.1)},
	}
	out, err := c.StartGameSessionPlacement(context.Background(), &sdk.StartGameSessionPlacementInput{
		PlacementId: aws.String("pl-1"), GameSessionQueueName: aws.String("main"),
		MaximumPlayerSessionCount: aws.Int32(10), PlayerLatencies: latencies,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := out.GameSessionPlacement
	for i, l := range p.PlayerLatencies {
		if *l.LatencyInMilliseconds != *latencies[i].LatencyInMilliseconds {
			t.Errorf("latency %d = %v, want %v", i, *l.LatencyInMilliseconds, *latencies[i].LatencyInMilliseconds)
		}
	}
	if aws.ToInt32(p.MaximumPlayerSessionCount) != 10 || p.Status != types.GameSessionPlacementStatePending {
		t.Errorf("placement %+v", p)
	}
	if got := aws.ToTime(p.StartTime).UnixMilli(); got != 1469498468057 {
		t.Errorf("StartTime = %d", got)
	}
}

func TestSDKDecodesTypedErrors(t *testing.T) {
	e := newEnv(t, 0)
	admin := e.client(adminKey, adminSecret)
	ctx := context.Background()
	if _, err := admin.CreateLocation(ctx, &sdk.CreateLocationInput{LocationName: aws.String("custom-dup")}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		call     func() error
		check    func(error) bool
		wantCode string
		wantMsg  string
	}{
		{"a missing location is a NotFoundException", func() error {
			return errOf(admin.DeleteLocation(ctx, &sdk.DeleteLocationInput{LocationName: aws.String("custom-nowhere")}))
		},
			isA[*types.NotFoundException],
			"NotFoundException", "location custom-nowhere not found"},
		{"a duplicate is a ConflictException", func() error {
			return errOf(admin.CreateLocation(ctx, &sdk.CreateLocationInput{LocationName: aws.String("custom-dup")}))
		},
			isA[*types.ConflictException],
			"ConflictException", "location custom-dup already exists"},
		{"a bad name is an InvalidRequestException naming the member", func() error {
			return errOf(admin.CreateLocation(ctx, &sdk.CreateLocationInput{LocationName: aws.String("home")}))
		},
			isA[*types.InvalidRequestException],
			"InvalidRequestException", "1 validation error detected: LocationName: must be 8 to 64 characters"},
		{"every bad member is reported at once", func() error {
			return errOf(admin.CreateLocation(ctx, &sdk.CreateLocationInput{LocationName: aws.String("nope"), Tags: []types.Tag{{Key: aws.String(""), Value: aws.String("v")}}}))
		},
			isA[*types.InvalidRequestException],
			"InvalidRequestException", "2 validation errors detected: LocationName: must be 8 to 64 characters; Tags[0].Key: must be 1 to 128 characters"},
		{"a string that is not UTF-8 is a SerializationException", func() error {
			return errOf(admin.CreateLocation(ctx, &sdk.CreateLocationInput{LocationName: aws.String("custom-\xff\xfe")}))
		},
			nil, "SerializationException", "invalid request body: invalid UTF-8 string"},
		{"a read-only key may not change anything", func() error {
			return errOf(e.client(readerKey, readerSecret).CreateLocation(ctx, &sdk.CreateLocationInput{LocationName: aws.String("custom-new")}))
		},
			isA[*types.UnauthorizedException],
			"UnauthorizedException", "access key " + readerKey + " has role read-only and may not change anything"},
		{"a read-only key may read", func() error {
			return errOf(e.client(readerKey, readerSecret).ListLocations(ctx, &sdk.ListLocationsInput{}))
		},
			nil, "", ""},
		{"a wrong secret is an InvalidSignatureException", func() error {
			return errOf(e.client(adminKey, "wrong-secret").ListLocations(ctx, &sdk.ListLocationsInput{}))
		},
			nil, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."},
		{"an unknown key is an UnrecognizedClientException", func() error {
			return errOf(e.client("AKIANOSUCHKEY", adminSecret).ListLocations(ctx, &sdk.ListLocationsInput{}))
		},
			nil, "UnrecognizedClientException", "The security token included in the request is invalid."},
		{"an out-of-range Limit is an InvalidRequestException", func() error { return errOf(admin.ListLocations(ctx, &sdk.ListLocationsInput{Limit: aws.Int32(500)})) },
			isA[*types.InvalidRequestException],
			"InvalidRequestException", "1 validation error detected: Limit: must be 1 to 200"},
		{"a service failure is an InternalServiceException that hides its cause", func() error {
			return errOf(admin.DescribeFleetEvents(ctx, &sdk.DescribeFleetEventsInput{FleetId: aws.String("fleet-fail")}))
		},
			isA[*types.InternalServiceException],
			"InternalServiceException", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("failed: %v", err)
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an API error", err)
			}
			if ae.ErrorCode() != tt.wantCode || ae.ErrorMessage() != tt.wantMsg {
				t.Fatalf("got %s %q, want %s %q", ae.ErrorCode(), ae.ErrorMessage(), tt.wantCode, tt.wantMsg)
			}
			if tt.check != nil && !tt.check(err) {
				t.Fatalf("%T is not the typed error", ae)
			}
		})
	}
	if strings.Contains(e.logs.String(), "hunter2") == false {
		t.Error("the internal cause was not logged")
	}
	if strings.Contains(e.logs.String(), adminSecret) || strings.Contains(e.logs.String(), "Signature=") {
		t.Error("the log contains credentials")
	}
}

func TestSDKRequestsWithASkewedClockAreRefused(t *testing.T) {
	tests := []struct {
		name string
		skew time.Duration
		want string
	}{
		{"a client 10 minutes behind the server is refused", 10 * time.Minute, "Signature expired: "},
		{"a client 10 minutes ahead of the server is refused", -10 * time.Minute, "Signature not yet current: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.skew)
			_, err := e.client(adminKey, adminSecret).ListLocations(context.Background(), &sdk.ListLocationsInput{})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" || !strings.HasPrefix(ae.ErrorMessage(), tt.want) {
				t.Fatalf("got %v, want InvalidSignatureException %q…", err, tt.want)
			}
		})
	}
}

// errOf is the error of a call's two results.
func errOf(_ any, err error) error { return err }

// isA says whether an error is, or wraps, a T.
func isA[T error](err error) bool {
	var x T
	return errors.As(err, &x)
}

// noBackoff retries at once, so the test does not wait.
type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

func TestSDKWithASkewedClockRecoversFromTheDateHeader(t *testing.T) {
	e := newEnv(t, 10*time.Minute)
	c := e.client(adminKey, adminSecret, func(o *sdk.Options) {
		o.RetryMaxAttempts = 2
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 2
			so.Backoff = noBackoff{}
		})
	})
	if _, err := c.ListLocations(context.Background(), &sdk.ListLocationsInput{}); err != nil {
		t.Fatalf("the client did not correct its clock from Date: %v", err)
	}
	if got := e.counter(t, "ListLocations", "InvalidSignatureException"); got != 1 {
		t.Fatalf("%v skewed attempts, want 1", got)
	}
}

func TestSDKBodyChangedAfterSigningIsRefused(t *testing.T) {
	e := newEnv(t, 0)
	rw := &bodyRewriter{rewrite: func(b []byte) []byte {
		return bytes.Replace(b, []byte("custom-mine"), []byte("custom-evil"), 1)
	}}
	c := e.client(adminKey, adminSecret, func(o *sdk.Options) { o.HTTPClient = &http.Client{Transport: rw} })
	_, err := c.CreateLocation(context.Background(), &sdk.CreateLocationInput{LocationName: aws.String("custom-mine")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" {
		t.Fatalf("got %v, want InvalidSignatureException", err)
	}
	if len(e.locs.byName) != 0 {
		t.Fatalf("the tampered request created %v", e.locs.byName)
	}
}

func TestSDKEmptyOutputsAndEmptyInputs(t *testing.T) {
	e := newEnv(t, 0)
	c := e.client(adminKey, adminSecret)
	ctx := context.Background()
	if _, err := c.CreateLocation(ctx, &sdk.CreateLocationInput{LocationName: aws.String("custom-gone")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteLocation(ctx, &sdk.DeleteLocationInput{LocationName: aws.String("custom-gone")}); err != nil {
		t.Fatalf("a nil output did not decode: %v", err)
	}
	out, err := c.ListLocations(ctx, &sdk.ListLocationsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Locations != nil || out.NextToken != nil {
		t.Fatalf("an empty list came back as %+v", out)
	}
}
