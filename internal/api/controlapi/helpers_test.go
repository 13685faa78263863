package controlapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/musterhq/muster/internal/api/controlapi"
	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/sigv4"
	"github.com/musterhq/muster/internal/sigv4/sigv4test"
)

const (
	adminKey     = "AKIAMUSTERADMIN00001"
	adminSecret  = "admin/Secret+Key/0123456789abcdefghijklmn"
	readerKey    = "AKIAMUSTERREADER0001"
	readerSecret = "reader/Secret+Key/0123456789abcdefghijklm"
	region       = "eu-west-1"
)

func testKeys() sigv4test.Keys {
	return sigv4test.Keys{
		adminKey:  {Secret: adminSecret, Role: auth.RoleAdmin},
		readerKey: {Secret: readerSecret, Role: auth.RoleReadOnly},
	}
}

// locations is a small in-test custom-location service.
type locations struct {
	mu      sync.Mutex
	byName  map[string]gamelift.LocationModel
	formats *gamelift.Formats
	arns    gamelift.ARNBuilder
}

func newLocations() *locations {
	return &locations{
		byName:  make(map[string]gamelift.LocationModel),
		formats: gamelift.NewFormats(),
		arns:    gamelift.ARNBuilder{Region: region, Account: "123456789012"},
	}
}

func (l *locations) create(ctx context.Context, in *gamelift.CreateLocationInput) (*gamelift.CreateLocationOutput, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	var v fault.Validator
	l.formats.Check(&v, "LocationName", "CustomInputLocationStringModel", in.LocationName)
	for i, tag := range in.Tags {
		v.Check(gamelift.Length(tag.Key, 1, 128) == "", fmt.Sprintf("Tags[%d].Key", i), "must be 1 to 128 characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.byName[in.LocationName]; ok {
		return nil, fault.New(fault.Conflict, "location %s already exists", in.LocationName)
	}
	port := int32(7770)
	m := gamelift.LocationModel{
		LocationName: in.LocationName,
		LocationArn:  l.arns.Build(gamelift.ResourceLocation, in.LocationName),
		PingBeacon:   &gamelift.PingBeacon{UDPEndpoint: &gamelift.UDPEndpoint{Domain: "beacon.muster.test", Port: &port}},
	}
	l.byName[in.LocationName] = m
	return &gamelift.CreateLocationOutput{Location: &m}, nil
}

func (l *locations) list(ctx context.Context, in *gamelift.ListLocationsInput) (*gamelift.ListLocationsOutput, error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	var v fault.Validator
	v.Check(in.Limit == nil || (*in.Limit >= 1 && *in.Limit <= 200), "Limit", "must be 1 to 200")
	if err := v.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make([]string, 0, len(l.byName))
	for n := range l.byName {
		if n > in.NextToken {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	out := &gamelift.ListLocationsOutput{}
	for _, n := range names {
		if in.Limit != nil && len(out.Locations) == int(*in.Limit) {
			out.NextToken = out.Locations[len(out.Locations)-1].LocationName
			break
		}
		out.Locations = append(out.Locations, l.byName[n])
	}
	return out, nil
}

func (l *locations) delete(ctx context.Context, in *gamelift.DeleteLocationInput) (*gamelift.DeleteLocationOutput, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.byName[in.LocationName]; !ok {
		return nil, fault.New(fault.NotFound, "location %s not found", in.LocationName)
	}
	delete(l.byName, in.LocationName)
	return nil, nil // a nil output is sent as an empty structure
}

// Test-only shapes of DescribeFleetEvents, answered by fleetEvents: they
// carry timestamps and int64 members through the real client.
type fleetEventsInput struct {
	FleetId   string              `json:"FleetId,omitempty"`
	StartTime *gamelift.Timestamp `json:"StartTime,omitempty"`
	EndTime   *gamelift.Timestamp `json:"EndTime,omitempty"`
	Limit     *int32              `json:"Limit,omitempty"`
	NextToken string              `json:"NextToken,omitempty"`
}

type fleetEvent struct {
	EventId    string              `json:"EventId,omitempty"`
	ResourceId string              `json:"ResourceId,omitempty"`
	EventCode  string              `json:"EventCode,omitempty"`
	Message    string              `json:"Message,omitempty"`
	EventTime  *gamelift.Timestamp `json:"EventTime,omitempty"`
	Count      *int64              `json:"Count,omitempty"`
}

type fleetEventsOutput struct {
	Events    []fleetEvent `json:"Events,omitempty"`
	NextToken string       `json:"NextToken,omitempty"`
}

// fleetEvents echoes the query: one event at StartTime and one at EndTime,
// with Count = Limit * 10^10 to exercise int64.
func fleetEvents(_ context.Context, in *fleetEventsInput) (*fleetEventsOutput, error) {
	if in.FleetId == "fleet-fail" {
		return nil, fmt.Errorf("query events: %w", errSecretCause)
	}
	var count *int64
	if in.Limit != nil {
		c := int64(*in.Limit) * 10_000_000_000
		count = &c
	}
	return &fleetEventsOutput{Events: []fleetEvent{
		{EventId: "e1", ResourceId: in.FleetId, EventCode: "FLEET_CREATED", Message: "start", EventTime: in.StartTime, Count: count},
		{EventId: "e2", ResourceId: in.FleetId, EventCode: "FLEET_STATE_ACTIVE", Message: "end", EventTime: in.EndTime},
	}, NextToken: in.NextToken}, nil
}

var errSecretCause = fmt.Errorf("database password hunter2 rejected")

// env is one control API behind an httptest server.
type env struct {
	srv      *httptest.Server
	clock    *clock.Fake
	reg      *prometheus.Registry
	locs     *locations
	handler  http.Handler
	logs     *bytes.Buffer
	verifier *sigv4.Verifier
	// audited are the audit entries, with the caller's access key id.
	auditMu sync.Mutex
	audited []audited
}

type audited struct {
	accessKeyID string
	entry       controlapi.AuditEntry
}

// newEnv starts the handler with the fake clock at the real time (the SDK
// signs with the wall clock), shifted by skew.
func newEnv(t testing.TB, skew time.Duration) *env {
	t.Helper()
	e := &env{
		clock: clock.NewFake(time.Now().Add(skew)),
		reg:   prometheus.NewRegistry(),
		locs:  newLocations(),
		logs:  &bytes.Buffer{},
	}
	table := controlapi.NewTable()
	controlapi.Register(table, "CreateLocation", e.locs.create)
	controlapi.Register(table, "ListLocations", e.locs.list)
	controlapi.Register(table, "DeleteLocation", e.locs.delete)
	controlapi.Register(table, "DescribeFleetEvents", fleetEvents)
	controlapi.Register(table, "StartGameSessionPlacement", func(ctx context.Context, in *gamelift.StartGameSessionPlacementInput) (*gamelift.StartGameSessionPlacementOutput, error) {
		return &gamelift.StartGameSessionPlacementOutput{GameSessionPlacement: &gamelift.GameSessionPlacement{
			PlacementId: in.PlacementId, GameSessionQueueName: in.GameSessionQueueName, Status: "PENDING",
			MaximumPlayerSessionCount: in.MaximumPlayerSessionCount, PlayerLatencies: in.PlayerLatencies,
			StartTime: gamelift.UnixMilli(1469498468057),
		}}, nil
	})
	keys := testKeys()
	e.verifier = &sigv4.Verifier{Secrets: keys, Clock: e.clock}
	e.handler = controlapi.New(controlapi.Config{
		Table:      table,
		Auth:       httpx.OperatorAuth{Verifier: e.verifier},
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: e.reg,
		Clock:      e.clock,
		Audit: func(ctx context.Context, entry controlapi.AuditEntry) {
			p := auth.From(ctx)
			e.auditMu.Lock()
			e.audited = append(e.audited, audited{p.AccessKeyID, entry})
			e.auditMu.Unlock()
		},
	})
	e.srv = httptest.NewServer(e.handler)
	t.Cleanup(e.srv.Close)
	return e
}

// client returns a real GameLift SDK client for the server, with retries off.
func (e *env) client(key, secret string, opts ...func(*sdk.Options)) *sdk.Client {
	cfg := aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		RetryMaxAttempts: 1,
	}
	return sdk.NewFromConfig(cfg, append([]func(*sdk.Options){func(o *sdk.Options) {
		o.BaseEndpoint = aws.String(e.srv.URL)
	}}, opts...)...)
}

// request builds a request to the server signed with key and secret at the
// fake clock's time.
func (e *env) request(t testing.TB, path string, header map[string]string, body []byte, key, secret string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	sigv4test.Sign(t, r, body, key, secret, region, e.clock.Now())
	return r
}

func do(t testing.TB, r *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// counter returns muster_controlapi_requests_total{operation,code}.
func (e *env) counter(t testing.TB, operation, code string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "muster_controlapi_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "operation") == operation && label(m, "code") == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func httpClient(rt http.RoundTripper) *http.Client { return &http.Client{Transport: rt} }

// bodyRewriter is an http.RoundTripper that lets a test see or change the
// request the SDK sends, after it was signed.
type bodyRewriter struct {
	mu      sync.Mutex
	rewrite func([]byte) []byte
	seen    []captured
}

type captured struct {
	op            string
	body          []byte
	authorization string
}

func (b *bodyRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	_ = r.Body.Close()
	b.mu.Lock()
	b.seen = append(b.seen, captured{op: r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:], body: body, authorization: r.Header.Get("Authorization")})
	b.mu.Unlock()
	if b.rewrite != nil {
		body = b.rewrite(body)
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	return http.DefaultTransport.RoundTrip(r2)
}
