package main_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/testenv"
)

func TestControlAPIWithTheGoSDK(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t)
	ctx := context.Background()
	gl := s.Admin()

	t.Run("a correct call creates and lists a location with its ARN", func(t *testing.T) {
		out, err := gl.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String("custom-go-one"),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("infra")}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(out.Location.LocationArn); got != "arn:aws:gamelift:mu-local-1:000000000000:location/custom-go-one" {
			t.Fatalf("LocationArn = %s", got)
		}
		if !slices.Contains(locationNames(t, gl), "custom-go-one") {
			t.Fatal("the new location is not listed")
		}
		tags, err := gl.ListTagsForResource(ctx, &gamelift.ListTagsForResourceInput{ResourceARN: out.Location.LocationArn})
		if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "infra" {
			t.Fatalf("tags = %+v, %v", tags, err)
		}
	})

	t.Run("bad input is refused with InvalidRequestException naming the member and nothing changes", func(t *testing.T) {
		before := locationNames(t, gl)
		_, err := gl.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String("custom-has_underscore")})
		var ire *types.InvalidRequestException
		if !errors.As(err, &ire) || !strings.Contains(ire.ErrorMessage(), "LocationName") {
			t.Fatalf("err = %v, want InvalidRequestException naming LocationName", err)
		}
		_, err = gl.ListLocations(ctx, &gamelift.ListLocationsInput{Limit: aws.Int32(0)})
		if !errors.As(err, &ire) || !strings.Contains(ire.ErrorMessage(), "Limit") {
			t.Fatalf("err = %v, want InvalidRequestException naming Limit", err)
		}
		if after := locationNames(t, gl); !slices.Equal(before, after) {
			t.Fatalf("locations changed from %v to %v", before, after)
		}
	})

	t.Run("a missing location is NotFoundException and a duplicate ConflictException", func(t *testing.T) {
		_, err := gl.DeleteLocation(ctx, &gamelift.DeleteLocationInput{LocationName: aws.String("custom-never")})
		var nf *types.NotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("err = %v, want NotFoundException", err)
		}
		_, err = gl.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String("custom-go-one")})
		var ce *types.ConflictException
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v, want ConflictException", err)
		}
	})

	t.Run("a bad signature is refused and changes nothing", func(t *testing.T) {
		before := locationNames(t, gl)
		_, err := s.GameLift(testenv.AdminKeyID, testenv.AdminSecret+"x").CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String("custom-forged")})
		if apiCode(err) != "InvalidSignatureException" {
			t.Fatalf("err = %v, want InvalidSignatureException", err)
		}
		if after := locationNames(t, gl); !slices.Equal(before, after) {
			t.Fatalf("locations changed from %v to %v", before, after)
		}
	})

	t.Run("a body changed after signing is refused", func(t *testing.T) {
		// Sign one body, send another: the server must recompute from what arrived.
		res, body, err := s.SignedJSON(ctx, testenv.AdminKeyID, testenv.AdminSecret, "ListLocations", `{}`, time.Now())
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("baseline: %v %s", err, body)
		}
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", strings.NewReader(`{"LocationName":"custom-replayed"}`))
		for k, v := range res.Request.Header {
			req.Header[k] = v
		}
		req.Header.Set("X-Amz-Target", "GameLift.CreateLocation")
		r2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		if r2.StatusCode != 400 || slices.Contains(locationNames(t, gl), "custom-replayed") {
			t.Fatalf("replayed request with a changed body answered %d", r2.StatusCode)
		}
	})

	t.Run("an unknown key is refused", func(t *testing.T) {
		_, err := s.GameLift("MKIAUNKNOWNUNKNOWN00", "some-secret-that-is-long").ListLocations(ctx, &gamelift.ListLocationsInput{})
		if apiCode(err) != "UnrecognizedClientException" {
			t.Fatalf("err = %v, want UnrecognizedClientException", err)
		}
	})

	t.Run("a read-only key may read but not write", func(t *testing.T) {
		id, secret := s.ReadOnlyKey(t)
		ro := s.GameLift(id, secret)
		if _, err := ro.ListLocations(ctx, &gamelift.ListLocationsInput{}); err != nil {
			t.Fatalf("read with a read-only key: %v", err)
		}
		_, err := ro.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String("custom-ro-write")})
		var ue *types.UnauthorizedException
		if !errors.As(err, &ue) {
			t.Fatalf("err = %v, want UnauthorizedException", err)
		}
		if slices.Contains(locationNames(t, gl), "custom-ro-write") {
			t.Fatal("the read-only key created a location")
		}
	})

	t.Run("a clock-skewed request is refused with a correct Date header", func(t *testing.T) {
		res, body, err := s.SignedJSON(ctx, testenv.AdminKeyID, testenv.AdminSecret, "ListLocations", `{}`, time.Now().Add(-10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 400 || !strings.Contains(string(body), "InvalidSignatureException") || !strings.Contains(string(body), "expired") {
			t.Fatalf("skewed request answered %d %s", res.StatusCode, body)
		}
		date, err := http.ParseTime(res.Header.Get("Date"))
		if err != nil || time.Since(date).Abs() > time.Minute {
			t.Fatalf("Date header %q is not the server's current time", res.Header.Get("Date"))
		}
	})

	t.Run("an unknown operation is refused in both codecs", func(t *testing.T) {
		res, body, err := s.SignedJSON(ctx, testenv.AdminKeyID, testenv.AdminSecret, "LaunchRocket", `{}`, time.Now())
		if err != nil || res.StatusCode != 400 || !strings.Contains(string(body), "UnknownOperationException") {
			t.Fatalf("JSON 1.1: %v %d %s", err, res.StatusCode, body)
		}
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/service/GameLift/operation/LaunchRocket", strings.NewReader("\xa0"))
		req.Header.Set("Content-Type", "application/cbor")
		req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		req.Header.Set("Authorization", "Bearer "+testenv.AdminKeyID+":"+testenv.AdminSecret)
		r2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		if r2.StatusCode < 400 || r2.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
			t.Fatalf("CBOR unknown op: status %d smithy-protocol %q", r2.StatusCode, r2.Header.Get("Smithy-Protocol"))
		}
	})

	t.Run("health, readiness and metrics answer", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
			res, err := http.Get(s.URL() + path)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("GET %s: %v %v", path, err, res)
			}
			res.Body.Close()
		}
		_, body, _ := s.Bearer(ctx, http.MethodGet, "/metrics", "")
		for _, want := range []string{`muster_controlapi_requests_total{code="OK",operation="CreateLocation"}`, "go_goroutines", `muster_http_requests_total{code="200",route="GET /healthz"}`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})

	t.Run("the outbox pages through events of committed changes only", func(t *testing.T) {
		var created []string
		for _, e := range adminEvents(t, s, "LocationCreated") {
			created = append(created, e.Resource)
		}
		if len(created) != 1 || !strings.HasSuffix(created[0], "location/custom-go-one") {
			t.Fatalf("LocationCreated events = %v, want exactly the one committed creation", created)
		}
		res, _, _ := s.Bearer(ctx, http.MethodGet, "/v1/admin/events?limit=0", "")
		if res.StatusCode != 400 {
			t.Fatalf("limit=0 answered %d, want 400", res.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v1/admin/events", nil)
		r2, _ := http.DefaultClient.Do(req)
		r2.Body.Close()
		if r2.StatusCode != 401 {
			t.Fatalf("events without credentials answered %d, want 401", r2.StatusCode)
		}
	})
}

func TestControlAPIWithTheJavaScriptSDK(t *testing.T) {
	t.Parallel()
	runJSTests(t, "controlapi.test.mjs")
}
