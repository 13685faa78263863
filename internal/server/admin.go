package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/store"
)

// adminAPI serves the operator REST endpoints under /v1/admin that are not
// part of the GameLift API.
type adminAPI struct {
	store store.Store
	keys  *identity.OperatorKeys
	log   *slog.Logger
	fake  *clock.Fake
}

type eventJSON struct {
	Seq      int64           `json:"seq"`
	ID       string          `json:"id"`
	Time     time.Time       `json:"time"`
	Type     string          `json:"type"`
	Resource string          `json:"resource"`
	Detail   json.RawMessage `json:"detail"`
}

// listEvents pages through the outbox: GET /v1/admin/events?after=&type=&limit=.
func (a adminAPI) listEvents(w http.ResponseWriter, r *http.Request) {
	if err := auth.RequireOperator(r.Context(), false); err != nil {
		httpx.WriteError(w, r, a.log, err)
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
		Events []eventJSON `json:"events"`
		Next   int64       `json:"next"`
	}{Events: make([]eventJSON, len(evs)), Next: q.After}
	for i, e := range evs {
		out.Events[i] = eventJSON{Seq: e.Seq, ID: e.ID, Time: e.Time.UTC(), Type: e.Type, Resource: e.Resource, Detail: e.Doc}
		out.Next = e.Seq
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

type keyJSON struct {
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey,omitempty"`
	Role            auth.Role `json:"role"`
	Description     string    `json:"description,omitempty"`
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
		out[i] = keyJSON{AccessKeyID: k.AccessKeyID, Role: k.Role, Description: k.Description, CreatedAt: k.CreatedAt, Revoked: k.Revoked()}
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
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	key, sec, err := a.keys.Create(r.Context(), in.Role, in.Description)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, keyJSON{AccessKeyID: key.AccessKeyID, SecretAccessKey: sec, Role: key.Role, Description: key.Description, CreatedAt: key.CreatedAt})
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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := auth.RequireOperator(r.Context(), true); err != nil {
			httpx.WriteError(w, r, log, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
