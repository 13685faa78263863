package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/musterhq/muster/client"
)

func TestMeasureLatencies(t *testing.T) {
	ctx := context.Background()
	c := client.New(endpoint, client.WithPings(9, time.Second))
	t.Run("locations are listed with their beacons, without signing in", func(t *testing.T) {
		locs, err := c.Locations(ctx)
		if err != nil || len(locs) != 2 || locs[0].Name != "custom-empty" || len(locs[0].Beacons) != 0 ||
			locs[1].Name != homeLocation || len(locs[1].Beacons) != 1 || locs[1].Beacons[0].Domain != "127.0.0.1" {
			t.Fatalf("%v %+v", err, locs)
		}
	})
	t.Run("a local beacon's sub-millisecond round trip is 1 ms; a location without a beacon is left out", func(t *testing.T) {
		// A loaded machine may delay one measurement past a millisecond;
		// five in a row are not all delayed.
		var ms map[string]int
		for range 5 {
			var err error
			if ms, err = c.MeasureLatencies(ctx); err != nil || len(ms) != 1 || ms[homeLocation] < 1 {
				t.Fatalf("%v %v", err, ms)
			}
			if ms[homeLocation] == 1 {
				break
			}
		}
		if ms[homeLocation] != 1 {
			t.Fatalf("a local beacon measured %d ms five times in a row", ms[homeLocation])
		}
		// What was measured is what a ticket takes.
		p := signedIn(t)
		tk, err := p.StartMatchmaking(ctx, "lonely", ms)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.CancelTicket(ctx, tk.TicketID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("round trips are whole milliseconds rounded up, from 1 to a minute", func(t *testing.T) {
		for rtt, want := range map[time.Duration]int{0: 1, 80 * time.Microsecond: 1, time.Millisecond: 1,
			1200 * time.Microsecond: 2, 45 * time.Millisecond: 45, time.Hour: client.MaxLatencyMs} {
			if got := client.Milliseconds(rtt); got != want {
				t.Errorf("%v: %d ms, want %d", rtt, got, want)
			}
		}
	})
}
