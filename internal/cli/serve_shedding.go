package cli

import (
	"flag"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/server"
)

// registerSheddingFlags adds the bound past which new sign-ins and tickets
// are refused at the door.
func registerSheddingFlags(fs *flag.FlagSet, cfg *server.Config) {
	cfg.ShedWriteDelay = server.DefaultShedWriteDelay
	fs.Var(shedDelay{&cfg.ShedWriteDelay}, "shed-write-delay",
		"when writes wait longer than this `duration` for the store's writer, new sign-ins and matchmaking tickets are refused at once (503 with Retry-After on the player API, ThrottlingException on the control API) so that matches already under way complete; 0 never refuses")
}

// shedDelay is --shed-write-delay: a duration ≥ 0, where 0 (never
// refuse) is kept as a negative bound in server.Config.
type shedDelay struct{ d *time.Duration }

func (v shedDelay) String() string {
	if v.d == nil || *v.d < 0 {
		return "0s"
	}
	return v.d.String()
}

func (v shedDelay) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("must be a duration ≥ 0 such as 500ms")
	}
	if d == 0 {
		d = -1
	}
	*v.d = d
	return nil
}
