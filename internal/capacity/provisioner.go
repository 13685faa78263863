package capacity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/webhook/safehttp"
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
	// PassEnv (exec) names the variables of the control plane's
	// environment the command gets besides PATH, HOME, LANG, TZ and TMPDIR
	// (a cloud CLI's profile or region, say); no other is passed.
	PassEnv []string `json:"passEnv,omitempty"`
	// Timeout bounds one exec command or webhook call (default 60 s).
	Timeout Duration `json:"timeout,omitzero"`
	// URL and Secret (webhook) are where calls go and the signing secret
	// (whsec_…, as for webhook subscriptions). Being the operator's own
	// configuration, the URL may name loopback and private networks
	// without --webhook-allow-private; cloud metadata, link-local and the
	// control plane's own addresses are refused, when the server starts
	// and on every connection.
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
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("provisioners: %s: %w", loc, err)
		}
	}
	return specs, nil
}

// check refuses a Spec that cannot work, naming what is wrong.
func (s Spec) check() error {
	if len(s.PassEnv) > 0 && s.Kind != "exec" {
		return errors.New("passEnv is for exec provisioners")
	}
	switch s.Kind {
	case "local":
	case "exec":
		if len(s.Command) == 0 || s.Command[0] == "" {
			return errors.New("an exec provisioner needs a command")
		}
		for i, name := range s.PassEnv {
			if name == "" || strings.ContainsAny(name, "=\x00") {
				return fmt.Errorf("passEnv[%d]: %q is not a variable name", i, name)
			}
		}
	case "webhook":
		if s.URL == "" || s.Secret == "" {
			return errors.New("a webhook provisioner needs a url and a secret")
		}
		if err := (safehttp.Config{AllowPrivate: true}).CheckURL(s.URL); err != nil {
			return fmt.Errorf("url: %w", err)
		}
	default:
		return fmt.Errorf("kind %q must be local, exec or webhook", s.Kind)
	}
	return nil
}

// Environment is what provisioners are built with.
type Environment struct {
	Clock clock.Clock
	Log   *slog.Logger
	// Binary, Endpoint, Credentials and Dir serve local provisioners.
	Binary      string
	Endpoint    func() string
	Credentials func(ctx context.Context, fleetID string) (id, secret string, err error)
	// Keys, when set, gives each local host an agent key of its own,
	// bound to its compute (Credentials is then not used).
	Keys HostKeys
	// Dir holds a folder per location of a local provisioner.
	Dir string
	// Destinations are the rules of the webhook client's safe dialer (the
	// control plane's own addresses). Webhook provisioners are held to
	// them with private networks allowed: their URLs are the operator's
	// configuration, not a studio's input.
	Destinations safehttp.Config
	// Env is the control plane's environment; exec commands and local
	// agents get only the allowed part of it (execEnv, AgentEnv).
	Env []string
}

// Build makes each location's provisioner from its Spec. runs are the
// local provisioners' Run, which the server runs with its background work.
func Build(specs map[string]Spec, env Environment) (provs map[string]Provisioner, runs []func(context.Context) error, err error) {
	provs = map[string]Provisioner{}
	for loc, spec := range specs {
		switch spec.Kind {
		case "local":
			// A folder per location: a Local takes what it finds in its
			// Dir for its own (the directories an earlier run left).
			if !filepath.IsLocal(loc) || strings.ContainsAny(loc, `/\`) {
				return nil, nil, fmt.Errorf("provisioners: %q: a local provisioner's location must be a plain name", loc)
			}
			l := &Local{Binary: env.Binary, Endpoint: env.Endpoint, Credentials: env.Credentials, Keys: env.Keys, Dir: filepath.Join(env.Dir, loc), DrainGrace: time.Duration(spec.DrainGrace),
				Beacon: LocalBeacon, Log: env.Log, Env: env.Env}
			provs[loc], runs = l, append(runs, l.Run)
		case "exec":
			provs[loc] = &Exec{Command: spec.Command, Timeout: spec.timeout(), Env: execEnv(env.Env, spec.PassEnv)}
		case "webhook":
			wh, err := buildWebhook(spec, env)
			if err != nil {
				return nil, nil, fmt.Errorf("provisioners: %s: %w", loc, err)
			}
			provs[loc] = wh
		}
	}
	return provs, runs, nil
}

// buildWebhook makes a webhook provisioner, its URL checked against the
// destinations allowed now rather than at its first call, so that a
// misconfigured server does not start.
func buildWebhook(spec Spec, env Environment) (*Webhook, error) {
	dest := env.Destinations
	dest.AllowPrivate = true
	if err := dest.CheckURL(spec.URL); err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	signer, err := sign.NewSigner(spec.Secret)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return &Webhook{URL: spec.URL, Signer: signer, Client: dest.Client(), Clock: env.Clock, Timeout: spec.timeout()}, nil
}

func (s Spec) timeout() time.Duration {
	if s.Timeout > 0 {
		return time.Duration(s.Timeout)
	}
	return time.Minute
}
