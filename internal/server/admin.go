package server

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/api/agentapi"
	"github.com/musterhq/muster/internal/api/controlapi"
	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/push"
	"github.com/musterhq/muster/internal/store"
)

// adminAPI serves the operator REST endpoints under /v1/admin that are not
// part of the GameLift API.
type adminAPI struct {
	store store.Store
	keys  *identity.OperatorKeys
	log   *slog.Logger
	fake  *clock.Fake
	// stream serves GET /v1/admin/events as Server-Sent Events
	// (push.Hub.OperatorStream; the route mounts with the Hub, mountPush).
	stream http.HandlerFunc
}

// listEvents pages through the outbox: GET /v1/admin/events?after=&type=&limit=
// (with Accept: text/event-stream, streams it: push.Hub.OperatorStream).
func (a adminAPI) listEvents(w http.ResponseWriter, r *http.Request) {
	if err := auth.RequireOperator(r.Context(), false); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if push.WantsEventStream(r) {
		a.stream(w, r)
		return
	}
	q := store.EventQuery{Limit: 100}
	var v fault.Validator
	if s := r.URL.Query().Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		v.Check(err == nil && n >= 0, "after", "must be a sequence number ≥ 0")
		q.After = n
	}
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		v.Check(err == nil && n >= 1 && n <= 1000, "limit", "must be 1 to 1000")
		q.Limit = n
	}
	q.Type = r.URL.Query().Get("type")
	v.Check(len(q.Type) <= 128, "type", "must be at most 128 characters")
	if err := v.Err(); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	var evs []store.Event
	if err := a.store.View(r.Context(), func(rd store.Reader) error {
		var err error
		evs, err = rd.Events(r.Context(), q)
		return err
	}); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	out := struct {
		Events []push.OperatorEvent `json:"events"`
		Next   int64                `json:"next"`
	}{Events: make([]push.OperatorEvent, len(evs)), Next: q.After}
	for i, e := range evs {
		out.Events[i] = push.OperatorEventOf(e)
		out.Next = e.Seq
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

type keyJSON struct {
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey,omitempty"`
	Role            auth.Role `json:"role"`
	Description     string    `json:"description,omitempty"`
	FleetID         string    `json:"fleetId,omitempty"`
	ComputeName     string    `json:"computeName,omitempty"`
	CreatedAt       time.Time `json:"createdAt"`
	Revoked         bool      `json:"revoked"`
}

func (a adminAPI) listKeys(w http.ResponseWriter, r *http.Request) {
	if err := auth.RequireOperator(r.Context(), false); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	keys, err := a.keys.List(r.Context())
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	out := make([]keyJSON, len(keys))
	for i, k := range keys {
		out[i] = keyJSON{AccessKeyID: k.AccessKeyID, Role: k.Role, Description: k.Description, FleetID: k.FleetID, ComputeName: k.ComputeName,
			CreatedAt: k.CreatedAt, Revoked: k.Revoked()}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"keys": out})
}

func (a adminAPI) createKey(w http.ResponseWriter, r *http.Request) {
	if err := auth.RequireOperator(r.Context(), true); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	var in struct {
		Role        auth.Role `json:"role"`
		Description string    `json:"description"`
		FleetID     string    `json:"fleetId"`
		ComputeName string    `json:"computeName"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	key, sec, err := a.keys.CreateKey(r.Context(), identity.KeySpec{Role: in.Role, Description: in.Description, FleetID: in.FleetID, ComputeName: in.ComputeName})
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, keyJSON{AccessKeyID: key.AccessKeyID, SecretAccessKey: sec, Role: key.Role, Description: key.Description,
		FleetID: key.FleetID, ComputeName: key.ComputeName, CreatedAt: key.CreatedAt})
}

func (a adminAPI) revokeKey(w http.ResponseWriter, r *http.Request) {
	if err := auth.RequireOperator(r.Context(), true); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if err := a.keys.Revoke(r.Context(), r.PathValue("id")); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// advanceClock moves the fake clock (test mode only).
func (a adminAPI) advanceClock(w http.ResponseWriter, r *http.Request) {
	if err := auth.RequireOperator(r.Context(), true); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	var in struct {
		Seconds float64 `json:"seconds"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if in.Seconds <= 0 || in.Seconds > 30*24*3600 {
		httpx.WriteError(w, r, a.log, fault.BadField("$.seconds", "must be > 0 and at most 30 days"))
		return
	}
	a.fake.Advance(time.Duration(in.Seconds * float64(time.Second)))
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"now": a.fake.Now().UTC()})
}

// adminOnly lets only admin keys through (read-only keys get 403).
func adminOnly(next http.Handler, log *slog.Logger) http.Handler {
	return operatorOnly(next, true, log)
}

// operatorOnly lets through a call that auth.RequireOperator allows (write:
// it asks for the admin role); an agent key never passes.
func operatorOnly(next http.Handler, write bool, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := auth.RequireOperator(r.Context(), write); err != nil {
			httpx.WriteError(w, r, log, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// EventOperatorAudit is the outbox event of one operator write: who (the
// access key id, also the event's resource), what (the control-API
// operation or the /v1/admin route, and the resources it names) and when
// (the event's time). It never holds a request body or a secret. Player
// streams forward only the player event types, so it reaches operators
// alone (GET /v1/admin/events?type=OperatorAudit).
const EventOperatorAudit = "OperatorAudit"

type auditDoc struct {
	AccessKeyID string            `json:"accessKeyId"`
	Role        auth.Role         `json:"role"`
	Operation   string            `json:"operation"`
	Resources   map[string]string `json:"resources,omitempty"`
}

// auditor records operator writes in the outbox. The record travels in
// the request's context (store.Pending) and commits in the transaction of
// the change it describes, so a write costs no second commit and a
// crash cannot keep the change without its record. A write that commits
// nothing (a change that was already so) or commits in a transaction
// made under another context is recorded in a transaction of its own
// once it succeeded; a failed write of that record is logged at Error.
type auditor struct {
	store store.Store
	log   *slog.Logger
	// refused counts a request refused before its body was read.
	refused func()
}

// start returns ctx carrying the record of the write operation names.
func (a auditor) start(ctx context.Context, operation string, resources map[string]string) context.Context {
	p := auth.From(ctx)
	doc := auditDoc{AccessKeyID: p.AccessKeyID, Role: p.Role, Operation: operation, Resources: resources}
	ev := store.Event{Type: EventOperatorAudit, Resource: p.AccessKeyID, Doc: store.MustJSON(doc)}
	return store.WithPending(ctx, &store.Pending{Event: ev})
}

// finish records the write of ctx (start) if its own transaction did not.
func (a auditor) finish(ctx context.Context, operation string) {
	pending := store.PendingFrom(ctx)
	if pending == nil || !pending.Take() {
		return
	}
	// The change is committed even if the request was cancelled since.
	ctx = context.WithoutCancel(ctx)
	err := a.store.Update(ctx, func(w store.Writer) error { return w.Append(ctx, pending.Event) })
	if err != nil {
		a.log.Error("could not record an operator write in the audit trail", "operation", operation, "access_key_id", pending.Event.Resource, "err", err)
	}
}

// controlStart is controlapi.Config.AuditStart.
func (a auditor) controlStart(ctx context.Context, e controlapi.AuditEntry) context.Context {
	return a.start(ctx, e.Operation, e.Resources)
}

// control is controlapi.Config.Audit.
func (a auditor) control(ctx context.Context, e controlapi.AuditEntry) { a.finish(ctx, e.Operation) }

// unaudited are /v1/admin writes that are liveness reports from machines,
// not changes an operator makes; auditing them would bury the trail.
var unaudited = map[string]bool{agentapi.Route: true}

// requireOperator authenticates /v1/admin routes (httpx.RequireOperator),
// refusing a request without a usable credential before its body is read
// (httpx.OperatorAuth.RefuseEarly), and audits every write among them (any method but GET, HEAD and OPTIONS)
// that succeeded (2xx): the route and its path.
func (a auditor) requireOperator(opAuth httpx.OperatorAuth) func(http.Handler) http.Handler {
	authenticate := httpx.RequireOperator(opAuth, a.log)
	return func(next http.Handler) http.Handler {
		return opAuth.RefuseEarly(authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				next.ServeHTTP(w, r)
				return
			}
			if unaudited[r.Pattern] || !strings.HasPrefix(r.URL.Path, "/v1/admin/") {
				next.ServeHTTP(w, r)
				return
			}
			sw := &httpx.StatusWriter{ResponseWriter: w}
			r = r.WithContext(a.start(r.Context(), r.Pattern, map[string]string{"path": r.URL.Path}))
			next.ServeHTTP(sw, r)
			if sw.Status >= 200 && sw.Status < 300 {
				a.finish(r.Context(), r.Pattern)
			}
		})), a.refused)
	}
}
