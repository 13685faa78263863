package controlapi_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/aws/smithy-go/encoding/cbor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/api/controlapi"
	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/sigv4"
)

func TestAPanickingServiceIsAnInternalError(t *testing.T) {
	table := controlapi.NewTable()
	controlapi.Register(table, "ListLocations", func(context.Context, *gamelift.ListLocationsInput) (*gamelift.ListLocationsOutput, error) {
		panic("index out of range in the store")
	})
	var logs bytes.Buffer
	h := controlapi.New(controlapi.Config{
		Table:  table,
		Auth:   httpx.OperatorAuth{Verifier: &sigv4.Verifier{Secrets: testKeys()}},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	r := httptest.NewRequest(http.MethodPost, "/service/GameLift/operation/ListLocations", bytes.NewReader(cbor.Encode(cbor.Map{})))
	r.Header.Set("Content-Type", "application/cbor")
	r.Header.Set("Authorization", "Bearer "+adminKey+":"+adminSecret)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	checkCBORResponse(t, w.Result(), w.Body.Bytes(), 500, "InternalServiceException", "internal error")
	if !strings.Contains(logs.String(), "index out of range in the store") || !strings.Contains(logs.String(), "goroutine") {
		t.Fatalf("the panic and its stack were not logged:\n%s", logs.String())
	}
}

func TestTable(t *testing.T) {
	table := controlapi.NewTable()
	noop := func(context.Context, *gamelift.DeleteLocationInput) (*gamelift.DeleteLocationOutput, error) {
		return nil, nil
	}
	controlapi.Register(table, "DeleteLocation", noop)
	controlapi.Register(table, "CreateLocation", func(context.Context, *gamelift.CreateLocationInput) (*gamelift.CreateLocationOutput, error) {
		return nil, nil
	})
	if got := strings.Join(table.Names(), ","); got != "CreateLocation,DeleteLocation" {
		t.Fatalf("Names() = %s", got)
	}
	tests := []struct {
		name     string
		register func()
	}{
		{"registering a name twice panics", func() { controlapi.Register(table, "DeleteLocation", noop) }},
		{"an empty name panics", func() { controlapi.Register(table, "", noop) }},
		{"a non-struct input panics", func() {
			controlapi.Register(table, "Odd", func(context.Context, *string) (*gamelift.DeleteLocationOutput, error) { return nil, nil })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tt.register()
		})
	}
}

func TestTwoHandlersShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := controlapi.Config{Table: controlapi.NewTable(), Auth: httpx.OperatorAuth{Verifier: &sigv4.Verifier{Secrets: testKeys()}}, Registerer: reg}
	controlapi.New(cfg)
	controlapi.New(cfg) // must not panic on the duplicate registration
}

// Every write that succeeds is audited once, with who did it and the
// identifiers its input names; reads and refused writes are not.
func TestSuccessfulWritesAreAudited(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	admin := e.client(adminKey, adminSecret)
	if _, err := admin.CreateLocation(ctx, &sdk.CreateLocationInput{LocationName: aws.String("custom-audit"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("secret-ish value")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ListLocations(ctx, &sdk.ListLocationsInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateLocation(ctx, &sdk.CreateLocationInput{LocationName: aws.String("custom-audit")}); err == nil {
		t.Fatal("a duplicate was created")
	}
	if _, err := e.client(readerKey, readerSecret).DeleteLocation(ctx, &sdk.DeleteLocationInput{LocationName: aws.String("custom-audit")}); err == nil {
		t.Fatal("a read-only key deleted")
	}
	if _, err := admin.DeleteLocation(ctx, &sdk.DeleteLocationInput{LocationName: aws.String("custom-audit")}); err != nil {
		t.Fatal(err)
	}
	want := []audited{
		{adminKey, controlapi.AuditEntry{Operation: "CreateLocation", Resources: map[string]string{"LocationName": "custom-audit"}}},
		{adminKey, controlapi.AuditEntry{Operation: "DeleteLocation", Resources: map[string]string{"LocationName": "custom-audit"}}},
	}
	if !reflect.DeepEqual(e.audited, want) {
		t.Fatalf("audited %+v, want %+v", e.audited, want)
	}
}

func TestTheTableKnowsItsReads(t *testing.T) {
	table := controlapi.NewTable()
	noop := func(context.Context, *struct{}) (*struct{}, error) { return nil, nil }
	for _, name := range []string{"DescribeFleetAttributes", "ListFleets", "GetComputeAccess", "SearchGameSessions", "ValidateMatchmakingRuleSet", "ResolveAlias", "CreateFleet", "StartMatchmaking", "TagResource", "GetComputeAuthToken"} {
		controlapi.Register(table, name, noop)
	}
	for name, want := range map[string]bool{"DescribeFleetAttributes": true, "ListFleets": true, "GetComputeAccess": true, "SearchGameSessions": true,
		"ValidateMatchmakingRuleSet": true, "ResolveAlias": true, "CreateFleet": false, "StartMatchmaking": false, "TagResource": false, "GetComputeAuthToken": false, "Unregistered": false} {
		if got := table.ReadOnly(name); got != want {
			t.Errorf("ReadOnly(%s) = %v, want %v", name, got, want)
		}
	}
}

// TestAClientThatLeftIsNotLoggedAsAFailure: an operation cut short because
// its client hung up is logged at Debug; an internal error under a live
// request still is logged at Error.
func TestAClientThatLeftIsNotLoggedAsAFailure(t *testing.T) {
	for _, clientGone := range []bool{true, false} {
		table := controlapi.NewTable()
		controlapi.Register(table, "ListLocations", func(ctx context.Context, _ *gamelift.ListLocationsInput) (*gamelift.ListLocationsOutput, error) {
			return nil, fmt.Errorf("list locations: %w", context.Canceled)
		})
		var logs bytes.Buffer
		h := controlapi.New(controlapi.Config{
			Table:  table,
			Auth:   httpx.OperatorAuth{Verifier: &sigv4.Verifier{Secrets: testKeys()}},
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		})
		ctx, cancel := context.WithCancel(context.Background())
		if clientGone {
			cancel()
		}
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/service/GameLift/operation/ListLocations", bytes.NewReader(cbor.Encode(cbor.Map{})))
		r.Header.Set("Content-Type", "application/cbor")
		r.Header.Set("Authorization", "Bearer "+adminKey+":"+adminSecret)
		h.ServeHTTP(httptest.NewRecorder(), r)
		cancel()
		if got := strings.Contains(logs.String(), "level=ERROR"); got == clientGone || !strings.Contains(logs.String(), "context canceled") {
			t.Fatalf("client gone %v: logged at Error %v, want %v, with the cause:\n%s", clientGone, got, !clientGone, logs.String())
		}
	}
}
