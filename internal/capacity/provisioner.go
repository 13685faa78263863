package capacity

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/webhook/sign"
)

// Host names one host a provisioner adds or removes: it runs an agent that
// registers as ComputeName in the fleet location.
type Host struct {
	FleetID     string `json:"fleetId"`
	Location    string `json:"location"`
	ComputeName string `json:"computeName"`
}

// Provisioner adds and removes hosts of a location. Provision is asked
// again for the same host when it failed or the host never registered, so
// it must be idempotent by compute name; Release of a host it does not
// know succeeds.
type Provisioner interface {
	Provision(ctx context.Context, h Host) error
	Release(ctx context.Context, h Host) error
}

// Spec is one location's provisioner as the operator configures it (the
// server's --capacity-provisioners, a JSON object by location).
type Spec struct {
	// Kind is local, exec or webhook.
	Kind string `json:"kind"`
	// Command (exec) is the program and its first arguments; Muster adds
	// "provision" or "release", the location and the compute name.
	Command []string `json:"command,omitempty"`
	// Timeout bounds one exec command or webhook call (default 60 s).
	Timeout Duration `json:"timeout,omitzero"`
	// URL and Secret (webhook) are where calls go and the signing secret
	// (whsec_…, as for webhook subscriptions).
	URL    string `json:"url,omitempty"`
	Secret string `json:"secret,omitempty"`
	// DrainGrace (local) is the --drain-grace of the agents it starts.
	DrainGrace Duration `json:"drainGrace,omitzero"`
}

// Duration is a time.Duration written as Go writes one ("90s").
type Duration time.Duration

// UnmarshalJSON reads "90s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"90s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v <= 0 {
		return fmt.Errorf("duration %s must be positive", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes "90s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// ParseSpecs reads the operator's provisioners: a JSON object from
// location name to Spec. Unknown fields are refused.
func ParseSpecs(data string) (map[string]Spec, error) {
	specs := map[string]Spec{}
	if data == "" {
		return specs, nil
	}
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&specs); err != nil {
		return nil, fmt.Errorf("provisioners: %w", err)
	}
	for loc, s := range specs {
		switch s.Kind {
		case "local":
		case "exec":
			if len(s.Command) == 0 || s.Command[0] == "" {
				return nil, fmt.Errorf("provisioners: %s: an exec provisioner needs a command", loc)
			}
		case "webhook":
			if s.URL == "" || s.Secret == "" {
				return nil, fmt.Errorf("provisioners: %s: a webhook provisioner needs a url and a secret", loc)
			}
		default:
			return nil, fmt.Errorf("provisioners: %s: kind %q must be local, exec or webhook", loc, s.Kind)
		}
	}
	return specs, nil
}

// Environment is what provisioners are built with.
type Environment struct {
	Clock clock.Clock
	Log   *slog.Logger
	// Binary, Endpoint, Credentials and Dir serve local provisioners.
	Binary      string
	Endpoint    func() string
	Credentials func(ctx context.Context) (id, secret string, err error)
	Dir         string
	// Client makes webhook calls: the webhook client, with its safe dialer.
	Client *http.Client
	// Env is the environment exec commands start from.
	Env []string
}

// Build makes each location's provisioner from its Spec. runs are the
// local provisioners' Run, which the server runs with its background work.
func Build(specs map[string]Spec, env Environment) (provs map[string]Provisioner, runs []func(context.Context) error, err error) {
	provs = map[string]Provisioner{}
	for loc, spec := range specs {
		switch spec.Kind {
		case "local":
			l := &Local{Binary: env.Binary, Endpoint: env.Endpoint, Credentials: env.Credentials, Dir: env.Dir, DrainGrace: time.Duration(spec.DrainGrace),
				Beacon: LocalBeacon, Log: env.Log}
			provs[loc], runs = l, append(runs, l.Run)
		case "exec":
			provs[loc] = &Exec{Command: spec.Command, Timeout: spec.timeout(), Env: env.Env}
		case "webhook":
			signer, err := sign.NewSigner(spec.Secret)
			if err != nil {
				return nil, nil, fmt.Errorf("provisioners: %s: secret: %w", loc, err)
			}
			provs[loc] = &Webhook{URL: spec.URL, Signer: signer, Client: env.Client, Clock: env.Clock, Timeout: spec.timeout()}
		}
	}
	return provs, runs, nil
}

func (s Spec) timeout() time.Duration {
	if s.Timeout > 0 {
		return time.Duration(s.Timeout)
	}
	return time.Minute
}
