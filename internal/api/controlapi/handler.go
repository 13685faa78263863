package controlapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
)

// DefaultMaxBodyBytes bounds request bodies when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 2 << 20

// Authenticator identifies the caller of a request whose body has been read.
// httpx.OperatorAuth implements it. Failures should be *sigv4.Error (sent
// with their code); any other error is an internal error.
type Authenticator interface {
	Authenticate(r *http.Request, body []byte) (auth.Principal, error)
}

// Config configures the control API handler. Table and Auth are required; a
// nil Logger discards logs, a nil Registerer skips metric registration and a
// nil Clock is the wall clock.
type Config struct {
	Table        *Table
	Auth         Authenticator
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
	Clock        clock.Clock
	MaxBodyBytes int64
	// Audit, when set, is told of every write operation that succeeded,
	// after the service committed it and before the client is answered;
	// ctx carries the caller's auth.Principal. Read-only operations
	// (Table.ReadOnly) are not audited.
	Audit func(ctx context.Context, e AuditEntry)
	// AuditStart, when set, is called for a write operation once its input
	// is decoded, before the service runs in the context it returns; Audit
	// then gets that context too. The server carries the audit record in
	// it, so the change's own transaction commits the record.
	AuditStart func(ctx context.Context, e AuditEntry) context.Context
}

// AuditEntry is one successful write operation: what was done, to what.
// It never holds the request body.
type AuditEntry struct {
	// Operation is the GameLift operation name, e.g. "CreateFleet".
	Operation string
	// Resources are the identifier members of the input (FleetId,
	// LocationName, ResourceARN…), by member name.
	Resources map[string]string
}

// Paths the handler serves. Mount the handler at "/" or at both
// "/service/GameLift/operation/" and "/{$}".
const (
	CBORPathPrefix = "/service/GameLift/operation/"
	JSONPath       = "/"
	targetPrefix   = "GameLift."
)

type handler struct {
	ops        map[string]*operation
	auth       Authenticator
	log        *slog.Logger
	clock      clock.Clock
	maxBody    int64
	audit      func(ctx context.Context, e AuditEntry)
	auditStart func(ctx context.Context, e AuditEntry) context.Context
	cbor       codec
	json       codec
	metrics    metrics
	mux        *http.ServeMux
}

// New returns the control API handler serving cfg.Table in both protocols.
// It panics if Table or Auth is nil, or a metric with the same name but
// another shape is already registered; both are wiring mistakes.
func New(cfg Config) http.Handler {
	if cfg.Table == nil || cfg.Auth == nil {
		panic("controlapi: Config.Table and Config.Auth are required")
	}
	cborCodec, err := newCBORCodec()
	if err != nil {
		panic(err) // the options are constants; a failure is a programming error
	}
	h := &handler{
		ops:        maps.Clone(cfg.Table.ops),
		auth:       cfg.Auth,
		log:        cfg.Logger,
		clock:      cfg.Clock,
		maxBody:    cfg.MaxBodyBytes,
		audit:      cfg.Audit,
		auditStart: cfg.AuditStart,
		cbor:       cborCodec,
		json:       newJSONCodec(),
		metrics:    newMetrics(cfg.Registerer),
		mux:        http.NewServeMux(),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.clock == nil {
		h.clock = clock.Real{}
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	h.mux.HandleFunc(CBORPathPrefix+"{op}", func(w http.ResponseWriter, r *http.Request) {
		h.serve(w, r, &h.cbor, r.PathValue("op"))
	})
	h.mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
		if !ok {
			op = ""
		}
		h.serve(w, r, &h.json, op)
	})
	// Anything else is no operation: answered in CBOR under the CBOR prefix
	// (e.g. an empty or multi-segment operation), in JSON elsewhere.
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c := &h.json
		if strings.HasPrefix(r.URL.Path, CBORPathPrefix) {
			c = &h.cbor
		}
		h.serve(w, r, c, "")
	})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// serve runs one request in protocol c for the operation named opName ("" if
// none was given) and records its metrics.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, c *codec, opName string) {
	start := h.clock.Now()
	// One id per request: the one the server's middleware (httpx.Observe)
	// already gave it, if any, so X-Request-Id and x-amzn-RequestId agree.
	reqID := httpx.RequestID(r.Context())
	if reqID == "" {
		reqID = uuid.NewString()
	}
	hdr := w.Header()
	hdr.Set("X-Amzn-Requestid", reqID)
	hdr.Set("Date", start.UTC().Format(http.TimeFormat))
	if c == &h.cbor {
		hdr.Set("Smithy-Protocol", "rpc-v2-cbor")
	}
	op := h.ops[opName]
	label := unknownOperationMetric
	if op != nil {
		label = op.name
	}

	out, aerr := h.call(w, r, c, op, opName)
	code := successCode
	if aerr != nil {
		code = aerr.code
		h.writeError(w, c, *aerr)
		h.logError(r, c, label, reqID, aerr)
	} else {
		h.write(w, c, http.StatusOK, out)
	}
	h.metrics.requests.WithLabelValues(label, code).Inc()
	h.metrics.duration.WithLabelValues(label).Observe(h.clock.Now().Sub(start).Seconds())
}

// call checks the envelope, reads and authenticates the request, decodes
// the input, calls the operation and encodes its output.
func (h *handler) call(w http.ResponseWriter, r *http.Request, c *codec, op *operation, opName string) ([]byte, *apiError) {
	if r.Method != http.MethodPost {
		return nil, &apiError{status: http.StatusMethodNotAllowed, code: codeMethodNotAllowed,
			message: fmt.Sprintf("method %s is not allowed; the GameLift API takes POST", r.Method)}
	}
	body, aerr := h.readBody(w, r)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := checkContentType(r, c, len(body) > 0); aerr != nil {
		return nil, aerr
	}
	p, err := h.auth.Authenticate(r, body)
	if err != nil {
		e := toAPIError(fmt.Errorf("authenticate: %w", err))
		return nil, &e
	}
	if op == nil {
		return nil, unknownOperation(r, c, opName)
	}
	ctx := auth.With(r.Context(), p)
	var start func(context.Context, map[string]string) context.Context
	if h.auditStart != nil && !op.readOnly {
		start = func(c context.Context, resources map[string]string) context.Context {
			ctx = h.auditStart(c, AuditEntry{Operation: op.name, Resources: resources})
			return ctx
		}
	}
	out, resources, err := invoke(ctx, op, func(v any) error { return c.decode(body, v, op.types) }, start)
	if err != nil {
		e := toAPIError(fmt.Errorf("%s: %w", op.name, err))
		return nil, &e
	}
	if h.audit != nil && !op.readOnly {
		h.audit(ctx, AuditEntry{Operation: op.name, Resources: resources})
	}
	b, err := c.encode(out)
	if err != nil {
		return nil, &apiError{status: http.StatusInternalServerError, code: codeInternal, message: internalErrorMessage,
			cause: fmt.Errorf("%s: encode output: %w", op.name, err)}
	}
	return b, nil
}

// invoke calls op, turning a panic in a service into an internal error so
// the client still gets an InternalServiceException and the panic is logged
// with its stack. http.ErrAbortHandler keeps its meaning.
func invoke(ctx context.Context, op *operation, decode func(v any) error, start func(context.Context, map[string]string) context.Context) (out any, resources map[string]string, err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { // a sentinel panic value, compared as net/http does
				panic(v)
			}
			err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
		}
	}()
	return op.invoke(ctx, decode, start)
}

func (h *handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	if r.ContentLength > h.maxBody {
		return nil, tooLarge(h.maxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge(h.maxBody)
	case err != nil:
		return nil, &apiError{status: http.StatusBadRequest, code: codeInvalidRequest,
			message: "could not read the request body", cause: fmt.Errorf("read body: %w", err)}
	}
	return body, nil
}

func tooLarge(limit int64) *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge, code: codeRequestTooLarge,
		message: fmt.Sprintf("the request body exceeds %d bytes", limit)}
}

// checkContentType accepts the protocol's media type (parameters allowed),
// or none when the body is empty. JSON also accepts AWS JSON 1.0.
func checkContentType(r *http.Request, c *codec, hasBody bool) *apiError {
	ct := r.Header.Get("Content-Type")
	if ct == "" && !hasBody {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == c.contentType || (c.contentType == contentTypeJSON && mt == "application/x-amz-json-1.0")) {
		return nil
	}
	return &apiError{status: http.StatusUnsupportedMediaType, code: codeUnsupportedMedia,
		message: fmt.Sprintf("Content-Type must be %s", c.contentType)}
}

func unknownOperation(r *http.Request, c *codec, opName string) *apiError {
	msg := fmt.Sprintf("unknown operation %q", opName)
	switch {
	case c.name == "cbor" && opName == "":
		msg = fmt.Sprintf("no GameLift operation is served at %s", r.URL.Path)
	case c.name == "json" && r.URL.Path != JSONPath:
		msg = fmt.Sprintf("no GameLift operation is served at %s", r.URL.Path)
	case c.name == "json" && r.Header.Get("X-Amz-Target") == "":
		msg = "missing X-Amz-Target header (GameLift.<Operation>)"
	case c.name == "json" && opName == "":
		msg = "X-Amz-Target must be GameLift.<Operation>"
	}
	return &apiError{status: c.unknownOpStatus, code: codeUnknownOperation, message: msg}
}

func (h *handler) write(w http.ResponseWriter, c *codec, status int, body []byte) {
	w.Header().Set("Content-Type", c.contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}

func (h *handler) writeError(w http.ResponseWriter, c *codec, e apiError) {
	if c.name == "json" {
		w.Header().Set("X-Amzn-Errortype", e.code)
	}
	if e.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	body, err := c.encode(wireError{Type: e.code, Message: e.message, MessageUpper: e.message})
	if err != nil { // cannot happen for three strings; keep the status anyway
		body = nil
	}
	h.write(w, c, e.status, body)
}

// logError logs a failed request once: internal errors with their cause at
// Error, client errors and requests whose client left at Debug. It never logs credentials.
func (h *handler) logError(r *http.Request, c *codec, op, reqID string, e *apiError) {
	attrs := []slog.Attr{
		slog.String("operation", op),
		slog.String("protocol", c.name),
		slog.String("request_id", reqID),
		slog.String("code", e.code),
	}
	if e.cause != nil && e.status >= 500 {
		attrs = append(attrs, slog.Any("err", e.cause))
		if httpx.ClientLeft(r, e.cause) {
			h.log.LogAttrs(r.Context(), slog.LevelDebug, "control API request ended: the client left before the answer", attrs...)
			return
		}
		h.log.LogAttrs(r.Context(), slog.LevelError, "control API request failed", attrs...)
		return
	}
	attrs = append(attrs, slog.String("message", e.message))
	h.log.LogAttrs(r.Context(), slog.LevelDebug, "control API request refused", attrs...)
}

// metrics are the handler's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) metrics {
	m := metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_controlapi_requests_total",
			Help: "Control API requests by GameLift operation and result code (OK or the error type).",
		}, []string{"operation", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "muster_controlapi_request_duration_seconds",
			Help:    "Control API request latency by GameLift operation, including authentication.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
	}
	if reg != nil {
		m.requests = register(reg, m.requests)
		m.duration = register(reg, m.duration)
	}
	return m
}

// register registers c, or reuses the collector already registered under
// its name (several handlers may share a registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(fmt.Sprintf("controlapi: register metric: %v", err))
	}
	return c
}
