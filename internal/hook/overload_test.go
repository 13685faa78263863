package hook_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/musterhq/muster/internal/hook"
	"github.com/musterhq/muster/internal/matchmaking"
)

// A proposed match that finds its hook's calls all in flight is not let
// through by failOpen: too many calls at once is no answer of the hook's,
// and a burst of matches is what a veto must see. It waits for the next
// pass (an error), while a hook that fails does fall open.
func TestAnOverloadedMatchHookDoesNotFallOpen(t *testing.T) {
	l := newLone(t, hook.Config{MaxConcurrent: 1})
	l.configuration("duel")
	svc, ctx := l.svc, l.ctx
	entered, release := make(chan struct{}), make(chan struct{})
	studio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		entered <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"allow":false,"reason":"never"}`)
	}))
	defer studio.Close()
	defer func() {
		select { // however the test ends, the held call is let go
		case <-release:
		default:
			close(release)
		}
	}()
	if _, err := svc.Create(ctx, hook.CreateInput{URL: studio.URL, Point: hook.MatchProposed, FailMode: hook.FailOpen, Configurations: []string{"duel"}}); err != nil {
		t.Fatal(err)
	}
	draft := &matchmaking.MatchDraft{ConfigurationName: "duel"}
	first := make(chan error, 1)
	go func() {
		_, err := svc.MatchProposed(ctx, draft)
		first <- err
	}()
	<-entered // the one call allowed in flight is out
	vetoed, err := svc.MatchProposed(ctx, draft)
	if err == nil {
		t.Fatalf("a match proposed while the hook's calls were all in flight: vetoed %v, nil error; want it held for the next pass", vetoed)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}
