package service_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

func TestWithDefaults(t *testing.T) {
	t.Run("an empty base gets a real clock, a discarding logger and the formats", func(t *testing.T) {
		b := service.Base{}.WithDefaults()
		if _, ok := b.Clock.(clock.Real); !ok {
			t.Errorf("Clock = %T, want clock.Real", b.Clock)
		}
		if b.Logger == nil || b.Formats == nil {
			t.Errorf("Logger %v, Formats %v: want both set", b.Logger, b.Formats)
		}
	})
	t.Run("parts that were given are kept", func(t *testing.T) {
		fake := clock.NewFake(time.Unix(1e9, 0))
		log := slog.New(slog.DiscardHandler)
		formats := gamelift.NewFormats()
		b := service.Base{Clock: fake, Logger: log, Formats: formats}.WithDefaults()
		if b.Clock != fake || b.Logger != log || b.Formats != formats {
			t.Errorf("WithDefaults replaced a part it was given")
		}
	})
}

func TestPage(t *testing.T) {
	limit := func(n int32) *int32 { return &n }
	for _, tt := range []struct {
		name        string
		limit       *int32
		max         int
		token       string
		n           int
		after, bads string
	}{
		{"no limit is the default page", nil, 0, "", 50, "", ""},
		{"a limit and a token are read", limit(7), 0, store.EncodePageToken("fleet-9"), 7, "fleet-9", ""},
		{"a limit below 1 is named", limit(0), 0, "", 0, "", "Limit: must be at least 1"},
		{"a limit over the maximum is named", limit(201), 200, "", 201, "", "Limit: must be 1 to 200"},
		{"a token this API did not hand out is named", nil, 0, "!!", 50, "", "NextToken: is not a token this API returned"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var v fault.Validator
			n, after := service.Page(&v, tt.limit, 50, tt.max, tt.token)
			got := ""
			if err := v.Err(); err != nil {
				got = err.(*fault.Error).Fields[0].String()
			}
			if n != tt.n || after != tt.after || got != tt.bads {
				t.Fatalf("Page = %d, %q, %q; want %d, %q, %q", n, after, got, tt.n, tt.after, tt.bads)
			}
		})
	}
}

func TestEveryRunsWorkOnEachTickAndLogsItsErrors(t *testing.T) {
	fake := clock.NewFake(time.Unix(1e9, 0))
	var logs bytes.Buffer
	b := service.Base{Clock: fake, Logger: slog.New(slog.NewTextHandler(&logs, nil))}.WithDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan int)
	done := make(chan error)
	n := 0
	go func() {
		done <- b.Every(ctx, time.Second, "test sweep", func(context.Context) error {
			n++
			ran <- n
			if n == 1 {
				return errors.New("first sweep failed")
			}
			return nil
		})
	}()
	for want := 1; want <= 2; want++ {
		fake.WaitForTimers(1)
		fake.Advance(time.Second)
		if got := <-ran; got != want {
			t.Fatalf("tick %d ran work %d", want, got)
		}
	}
	if !strings.Contains(logs.String(), "test sweep") || !strings.Contains(logs.String(), "first sweep failed") {
		t.Fatalf("logs %q do not report the failed sweep", logs.String())
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Every returned %v after its context ended", err)
	}
}
