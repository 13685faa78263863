package cli

import (
	"flag"

	"github.com/musterhq/muster/internal/server"
)

// registerOutboxFlags adds the outbox's retention.
func registerOutboxFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.DurationVar(&cfg.OutboxRetention, "outbox-retention", server.DefaultOutboxRetention,
		"how long outbox events are kept (never pruned before every enabled webhook subscription has delivered them); a stream resuming from before what is kept is told to reset")
}
