package cli

import (
	"flag"

	"github.com/musterhq/muster/internal/server"
)

// registerBusFlags adds the flags of the bus between replicas to `muster serve`.
func registerBusFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.NATS, "nats", "", "NATS `URL` (nats://host:4222) that carries the wake-ups between replicas instead of PostgreSQL LISTEN/NOTIFY, and receives every event on JetStream subjects muster.events.<type> (stream MUSTER_EVENTS)")
}
