package service_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
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
