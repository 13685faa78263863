package service

import (
	"log/slog"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/tagging"
)

// Base is the part of a service's Config that every service shares.
type Base struct {
	Store store.Store
	// Clock is where all business time comes from (clock.Real{} when nil).
	Clock clock.Clock
	// Logger receives the service's logs (discarded when nil).
	Logger *slog.Logger
	// ARNs builds and parses the ARNs the service answers with.
	ARNs gamelift.ARNBuilder
	// Formats checks GameLift's named member formats (gamelift.NewFormats()
	// when nil).
	Formats *gamelift.Formats
	// Tags stores resource tags; nil for a service that has no taggable
	// resources.
	Tags *tagging.Service
}

// WithDefaults returns b with every unset optional part filled in.
func (b Base) WithDefaults() Base {
	if b.Clock == nil {
		b.Clock = clock.Real{}
	}
	if b.Logger == nil {
		b.Logger = slog.New(slog.DiscardHandler)
	}
	if b.Formats == nil {
		b.Formats = gamelift.NewFormats()
	}
	return b
}
