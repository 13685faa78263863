package server_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/store"
)

// sseEvents opens the operator event stream with the given header and
// returns the first n events' "id event" lines.
func sseEvents(t *testing.T, url, header, value string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/admin/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", adminBearer)
	req.Header.Set("Accept", "text/event-stream")
	if header == "after" {
		q := req.URL.Query()
		q.Set("after", value)
		req.URL.RawQuery = q.Encode()
	} else if header != "" {
		req.Header.Set(header, value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []string
	var id string
	sc := bufio.NewScanner(resp.Body)
	for len(out) < n && sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			out = append(out, id+" "+strings.TrimPrefix(line, "event: "))
			id = ""
		}
	}
	if len(out) < n {
		t.Fatalf("stream ended after %v: %v", out, sc.Err())
	}
	return out
}

// An operator stream resuming from before what the outbox keeps is told
// to reset, with the pruned mark as its id, and goes on from there; one
// resuming from the mark, or opened without a cursor, is not.
func TestAnOperatorStreamResumingFromPrunedEventsIsToldToReset(t *testing.T) {
	srv, url := newServer(t)
	ctx := context.Background()
	for _, n := range []string{"e1", "e2", "e3", "e4"} {
		if err := srv.Store().Update(ctx, func(w store.Writer) error { return w.Append(ctx, store.Event{Type: "Test", Resource: n}) }); err != nil {
			t.Fatal(err)
		}
	}
	var evs []store.Event
	if err := srv.Store().View(ctx, func(r store.Reader) (err error) { evs, err = r.Events(ctx, store.EventQuery{}); return err }); err != nil {
		t.Fatal(err)
	}
	mark := evs[1].Seq
	if _, err := srv.Store().(store.EventPruner).PruneEvents(ctx, time.Now().Add(time.Hour), mark, 100); err != nil {
		t.Fatal(err)
	}
	seq := func(e store.Event) string { return itoa(e.Seq) }
	for _, c := range []struct {
		name, header, value string
		want                []string
	}{
		{"after= before the mark", "after", itoa(evs[0].Seq), []string{itoa(mark) + " reset", seq(evs[2]) + " Test", seq(evs[3]) + " Test"}},
		{"Last-Event-ID before the mark", "Last-Event-ID", "0", []string{itoa(mark) + " reset", seq(evs[2]) + " Test"}},
		{"from the mark", "Last-Event-ID", itoa(mark), []string{seq(evs[2]) + " Test", seq(evs[3]) + " Test"}},
		{"without a cursor", "", "", []string{seq(evs[2]) + " Test", seq(evs[3]) + " Test"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := sseEvents(t, url, c.header, c.value, len(c.want)); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
