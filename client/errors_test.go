package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/musterhq/muster/client"
)

func TestProblemsAreErrors(t *testing.T) {
	ctx := context.Background()
	c := signedIn(t)
	t.Run("a bad member is named by its JSON path", func(t *testing.T) {
		_, err := c.StartMatchmaking(ctx, "wait-duel", map[string]int{homeLocation: 0})
		var e *client.Error
		if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Title == "" || e.Type == "" || e.RequestID == "" {
			t.Fatalf("%#v", err)
		}
		if reason, ok := e.Field("$.latencyInMs." + homeLocation); !ok || reason == "" || len(e.Fields) != 1 {
			t.Fatalf("%+v", e.Fields)
		}
		if !strings.Contains(e.Error(), "$.latencyInMs."+homeLocation) || !strings.Contains(e.Error(), e.RequestID) {
			t.Fatal(e.Error())
		}
	})
	t.Run("a configuration closed to players is 403 with the server's reason", func(t *testing.T) {
		_, err := c.StartMatchmaking(ctx, "closed", latencies)
		var e *client.Error
		if !errors.As(err, &e) || e.Status != http.StatusForbidden || !strings.Contains(e.Detail, "closed") || e.Code == "" {
			t.Fatalf("%#v", err)
		}
	})
	t.Run("another player's ticket, or none, is 404", func(t *testing.T) {
		tk := start(t, c, "lonely")
		defer c.CancelTicket(ctx, tk.TicketID)
		if _, err := signedIn(t).Ticket(ctx, tk.TicketID); status(err) != http.StatusNotFound {
			t.Fatal(err)
		}
		if _, err := c.Ticket(ctx, "no-such-ticket"); status(err) != http.StatusNotFound {
			t.Fatal(err)
		}
		x, err := c.Explain(ctx, tk.TicketID)
		if err != nil || x.TicketID != tk.TicketID || x.Text == "" {
			t.Fatalf("%v %+v", err, x)
		}
	})
	t.Run("an answer that is not a problem document keeps its status and text", func(t *testing.T) {
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>upstream down</html>"))
		}))
		defer proxy.Close()
		_, err := client.New(proxy.URL).Locations(ctx)
		var e *client.Error
		if !errors.As(err, &e) || e.Status != http.StatusBadGateway || e.Title != "Bad Gateway" || !strings.Contains(e.Detail, "upstream down") || e.RetryAfter.Seconds() != 7 {
			t.Fatalf("%#v", err)
		}
	})
}
