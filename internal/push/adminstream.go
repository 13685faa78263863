package push

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/store"
)

// WantsEventStream says whether a request asks for Server-Sent Events
// (Accept: text/event-stream) rather than a JSON page.
func WantsEventStream(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/event-stream" {
			return true
		}
	}
	return false
}

// OperatorEvent is one outbox event as GET /v1/admin/events shows it.
type OperatorEvent struct {
	Seq      int64           `json:"seq"`
	ID       string          `json:"id"`
	Time     time.Time       `json:"time"`
	Type     string          `json:"type"`
	Resource string          `json:"resource"`
	Detail   json.RawMessage `json:"detail"`
}

// OperatorEventOf renders an outbox event for operators.
func OperatorEventOf(e store.Event) OperatorEvent {
	return OperatorEvent{Seq: e.Seq, ID: e.ID, Time: e.Time.UTC(), Type: e.Type, Resource: e.Resource, Detail: e.Doc}
}

// OperatorStream streams the outbox after a cursor as Server-Sent Events
// for operators' tools: GET /v1/admin/events with Accept:
// text/event-stream, ?after=<seq> or Last-Event-ID (the event's seq, which
// is each event's id: line), ?type= to keep one type. The caller has
// authorised the operator. Each stream follows the outbox itself (operators
// are few, and each may start from any cursor), waking as the Hub's reader
// does: at once on a commit in this process or, through Config.Wake, on
// another replica's, and otherwise after the reader's bounded poll. A
// resume from before what the outbox keeps is answered with a reset, and
// counted in muster_push_resets_total{stream="operator"}.
func (h *Hub) OperatorStream() http.HandlerFunc {
	st, log := h.cfg.Store, h.cfg.Logger
	reader := outbox.New(outbox.Config{Store: st, Clock: h.cfg.Clock, Wake: h.cfg.Wake})
	return func(w http.ResponseWriter, r *http.Request) {
		after, typ, err := streamQuery(r)
		if err != nil {
			httpx.WriteError(w, r, log, err)
			return
		}
		out := newSSEWriter(w, 10*time.Second)
		defer out.rc.SetWriteDeadline(time.Time{})
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		if out.comment("connected") != nil { // sends the headers now
			return
		}
		after, reset, err := operatorResume(r.Context(), r, st, after, out)
		if reset {
			h.m.resets.WithLabelValues(streamOperator).Inc()
		}
		if err != nil {
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		var mu sync.Mutex // the keep-alive and the events share the writer
		go keepAlive(ctx, cancel, &mu, out)
		reader.Follow(ctx, after, func(ctx context.Context, evs []store.Event) error {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range evs {
				if typ != "" && e.Type != typ {
					continue
				}
				b, _ := json.Marshal(OperatorEventOf(e))
				if err := out.event(strconv.FormatInt(e.Seq, 10), e.Type, b); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

func streamQuery(r *http.Request) (int64, string, error) {
	var v fault.Validator
	var after int64
	s := r.Header.Get("Last-Event-ID")
	if s == "" {
		s = r.URL.Query().Get("after")
	}
	if s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		v.Check(err == nil && n >= 0, "after", "must be a sequence number ≥ 0")
		after = n
	}
	typ := r.URL.Query().Get("type")
	v.Check(len(typ) <= 128, "type", "must be at most 128 characters")
	return after, typ, v.Err()
}

// keepAlive writes a comment every 15 s so proxies keep the stream open;
// a failed write ends the stream.
func keepAlive(ctx context.Context, cancel func(), mu *sync.Mutex, out *sseWriter) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			mu.Lock()
			err := out.comment("ping")
			mu.Unlock()
			if err != nil {
				cancel()
				return
			}
		}
	}
}
