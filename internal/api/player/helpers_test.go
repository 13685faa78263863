package player_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/musterhq/muster/internal/server"
)

var ctx = context.Background()

const (
	adminID     = "MKIATESTADMIN0000001"
	adminSecret = "test-admin-secret-0123456789"
)

// doc is openapi.yaml loaded with kin-openapi; router finds its operations.
var (
	doc    *openapi3.T
	router routers.Router
	// seen records, per documented operation, the statuses whose responses
	// were validated against the document.
	seenMu sync.Mutex
	seen   = map[string]map[int]bool{}
)

func loadDoc() error {
	loader := openapi3.NewLoader()
	var err error
	doc, err = loader.LoadFromFile("openapi.yaml")
	if err != nil {
		return err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	router, err = gorillamux.NewRouter(doc)
	return err
}

// TestMain loads the document, runs the tests and, when the whole suite ran
// and passed, checks that every documented operation had at least one real
// response validated against the document.
func TestMain(m *testing.M) {
	if err := loadDoc(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	full := true
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.run") || strings.HasPrefix(a, "-test.bench") || strings.HasPrefix(a, "-test.fuzz") {
			full = false
		}
	}
	if code == 0 && full {
		var missing []string
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				if len(seen[method+" "+path]) == 0 {
					missing = append(missing, method+" "+path)
				}
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "no test validated a response of these documented operations: %v\n", missing)
			code = 1
		}
	}
	os.Exit(code)
}

// apiEnv is a real server (server.New) on a loopback listener.
type apiEnv struct {
	t        testing.TB
	cfg      server.Config
	level    slog.Level
	srv      *server.Server
	ts       *httptest.Server
	stopBg   func()
	logs     *syncBuffer
	readOnly string // bearer credentials of a read-only key
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newAPI(t testing.TB, mod func(*server.Config)) *apiEnv {
	t.Helper()
	cfg := server.Config{DataDir: t.TempDir(), AdminAccessKeyID: adminID, AdminSecretAccessKey: adminSecret, FakeClock: true, SDKListen: "127.0.0.1:0"}
	cfg.Player.WritableKeys = []string{"displayName"}
	cfg.Player.IPRate, cfg.Player.IdentityRate = -1, -1
	if mod != nil {
		mod(&cfg)
	}
	// Debug, so the tests see the access log; benchmarks use the
	// production default (info).
	e := &apiEnv{t: t, cfg: cfg, logs: &syncBuffer{}, level: slog.LevelDebug}
	if _, ok := t.(*testing.B); ok {
		e.level = slog.LevelInfo
	}
	e.start()
	return e
}

func (e *apiEnv) start() {
	e.t.Helper()
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: e.level}))
	srv, err := server.New(ctx, e.cfg, log)
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv = srv
	e.stopBg = srv.StartBackground()
	e.ts = httptest.NewServer(srv.Handler())
	e.t.Cleanup(e.stop)
}

func (e *apiEnv) stop() {
	if e.ts != nil {
		e.ts.Close()
		e.stopBg()
		e.srv.Close()
		e.ts = nil
	}
}

// restart stops the server and starts a new one on the same data directory.
func (e *apiEnv) restart() {
	e.stop()
	e.start()
}

const admin = "Bearer " + adminID + ":" + adminSecret

// readOnlyKey makes a read-only operator key and returns its bearer header.
func (e *apiEnv) readOnlyKey(t testing.TB) string {
	if e.readOnly == "" {
		r := e.do(t, "POST", "/v1/admin/keys", admin, `{"role":"read-only"}`, nil)
		r.want(http.StatusCreated)
		var k struct{ AccessKeyID, SecretAccessKey string }
		r.decode(&k)
		e.readOnly = "Bearer " + k.AccessKeyID + ":" + k.SecretAccessKey
	}
	return e.readOnly
}

// player signs in a new anonymous player and returns its tokens.
func (e *apiEnv) player(t testing.TB) tokens {
	r := e.do(t, "POST", "/v1/identity/anonymous", "", "", nil)
	r.want(http.StatusCreated)
	var tk tokens
	r.decode(&tk)
	return tk
}

type tokens struct {
	IdentityID   string `json:"identityId"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int    `json:"expiresIn"`
}

func (tk tokens) bearer() string { return "Bearer " + tk.AccessToken }

type resp struct {
	t      testing.TB
	status int
	header http.Header
	body   []byte
}

func (r resp) want(status int) resp {
	r.t.Helper()
	if r.status != status {
		r.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (r resp) decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		r.t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problem decodes a problem document.
func (r resp) problem() (code string, fields []string) {
	r.t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		r.t.Fatalf("Content-Type %q, want application/problem+json: %s", ct, r.body)
	}
	var p struct {
		Code   string
		Errors []struct{ Field string }
	}
	r.decode(&p)
	for _, f := range p.Errors {
		fields = append(fields, f.Field)
	}
	return p.Code, fields
}

// do sends a request over HTTP and validates the response against the
// OpenAPI document (for documented operations).
func (e *apiEnv) do(t testing.TB, method, path, authz, body string, header map[string]string) resp {
	t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	r := resp{t: t, status: res.StatusCode, header: res.Header, body: data}
	if res.Header.Get("X-Request-Id") == "" {
		t.Fatalf("%s %s: no X-Request-Id", method, path)
	}
	validate(t, method, path, body, r)
	return r
}

// validate checks a response against the document when the request is a
// documented operation.
func validate(t testing.TB, method, path, body string, r resp) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://muster.test"+path, strings.NewReader(body))
	route, params, err := router.FindRoute(req)
	if err != nil {
		return // not a documented operation (e.g. OPTIONS, /v1/admin/keys)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.status, Header: r.header,
		Body: io.NopCloser(bytes.NewReader(r.body)), Options: in.Options}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Fatalf("%s %s: the %d response does not match the OpenAPI document: %v\n%s", method, path, r.status, err, r.body)
	}
	seenMu.Lock()
	key := strings.ToUpper(method) + " " + route.Path
	if seen[key] == nil {
		seen[key] = map[int]bool{}
	}
	seen[key][r.status] = true
	seenMu.Unlock()
}
