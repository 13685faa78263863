package cli

import (
	"flag"
	"time"

	"github.com/musterhq/muster/internal/server"
)

// registerBusFlags adds the flags of the bus between replicas to `muster serve`.
func registerBusFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.NATS, "nats", "", "NATS `URL` (nats://host:4222) that carries the wake-ups between replicas instead of PostgreSQL LISTEN/NOTIFY, and receives every event on JetStream subjects muster.events.<type> (stream MUSTER_EVENTS)")
	fs.StringVar(&cfg.ReplicaID, "replica-id", "", "this replica's `id` among those sharing a PostgreSQL store, shown with the leases it holds (GET /v1/admin/leases); default: host, pid and a random part")
	fs.StringVar(&cfg.AdvertiseAddr, "advertise", "", "the `address` other replicas and operators see for this replica's leases; default: the bound --listen address")
	fs.DurationVar(&cfg.LeaseTTL, "lease-ttl", 3*time.Second, "on a PostgreSQL store, each piece of background work (a matchmaking configuration's pool, the placer, sweeps, webhook delivery) runs on the replica holding its lease; a replica that dies loses its leases this long after its last renewal")
}
