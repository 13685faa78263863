package player_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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
	"github.com/musterhq/muster/internal/server/servertest"
	"github.com/musterhq/muster/internal/testenv"
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
	*servertest.Env
	logs     *testenv.Buffer
	readOnly string // bearer credentials of a read-only key
}

type resp = servertest.Response

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
	level := slog.LevelDebug
	if _, ok := t.(*testing.B); ok {
		level = slog.LevelInfo
	}
	logs := &testenv.Buffer{}
	e := &apiEnv{Env: &servertest.Env{T: t, Cfg: cfg, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))}, logs: logs}
	e.Start()
	return e
}

const admin = "Bearer " + adminID + ":" + adminSecret

// readOnlyKey makes a read-only operator key and returns its bearer header.
func (e *apiEnv) readOnlyKey(t testing.TB) string {
	if e.readOnly == "" {
		r := e.do(t, "POST", "/v1/admin/keys", admin, `{"role":"read-only"}`, nil)
		r.Want(http.StatusCreated)
		var k struct{ AccessKeyID, SecretAccessKey string }
		r.Decode(&k)
		e.readOnly = "Bearer " + k.AccessKeyID + ":" + k.SecretAccessKey
	}
	return e.readOnly
}

// player signs in a new anonymous player and returns its tokens.
func (e *apiEnv) player(t testing.TB) tokens {
	r := e.do(t, "POST", "/v1/identity/anonymous", "", "", nil)
	r.Want(http.StatusCreated)
	var tk tokens
	r.Decode(&tk)
	return tk
}

type tokens struct {
	IdentityID   string `json:"identityId"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int    `json:"expiresIn"`
}

func (tk tokens) bearer() string { return "Bearer " + tk.AccessToken }

// do sends a request over HTTP and validates the response against the
// OpenAPI document (for documented operations).
func (e *apiEnv) do(t testing.TB, method, path, authz, body string, header map[string]string) resp {
	t.Helper()
	r := e.Do(t, method, path, authz, body, header)
	if r.Header.Get("X-Request-Id") == "" {
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
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.Status, Header: r.Header,
		Body: io.NopCloser(bytes.NewReader(r.Body)), Options: in.Options}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Fatalf("%s %s: the %d response does not match the OpenAPI document: %v\n%s", method, path, r.Status, err, r.Body)
	}
	seenMu.Lock()
	key := strings.ToUpper(method) + " " + route.Path
	if seen[key] == nil {
		seen[key] = map[int]bool{}
	}
	seen[key][r.Status] = true
	seenMu.Unlock()
}
