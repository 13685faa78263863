package push

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/musterhq/muster/internal/store"
)

// operatorResume holds an operator stream's cursor to what the outbox
// still keeps. A cursor given (after= or Last-Event-ID) from before the
// pruned mark (store.PrunedThrough) has lost events: the stream says so
// with a reset event, whose id is the mark so a reconnect resumes from
// what is kept, and goes on from the mark; reset reports that it did. A
// stream opened without a cursor is no resume and gets no reset.
func operatorResume(ctx context.Context, r *http.Request, st store.Store, after int64, out *sseWriter) (next int64, reset bool, err error) {
	if r.Header.Get("Last-Event-ID") == "" && !r.URL.Query().Has("after") {
		return after, false, nil
	}
	var through int64
	err = st.View(ctx, func(rd store.Reader) (err error) {
		through, err = store.PrunedThrough(ctx, rd)
		return err
	})
	if err != nil || after >= through {
		return after, false, err
	}
	reason := fmt.Sprintf("the events after %d up to %d were pruned from the outbox; read your state again", after, through)
	return through, true, out.event(strconv.FormatInt(through, 10), "reset", mustJSON(resetMessage{Type: "reset", Reason: reason}))
}
