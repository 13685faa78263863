package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/server"
)

// logFlags are the flags of every command that runs a service: its config
// file and its logs.
type logFlags struct {
	logFormat string
	logLevel  string
}

func (c *logFlags) register(fs *flag.FlagSet) {
	fs.String("config", "", "JSON config `file` whose keys are flag names (flag > env > file)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// commonFlags are shared by commands that open the data directory.
type commonFlags struct {
	logFlags
	dataDir string
	// masterKey remembers where it came from: its errors name that, and
	// never the key.
	masterKey sourcedString
	storeURL  string
}

// commonFlagSet returns the flag set of the command name that works on the
// data directory, with the common flags registered on it.
func commonFlagSet(name string) (*flag.FlagSet, *commonFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c := new(commonFlags)
	c.register(fs)
	return fs, c
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	c.logFlags.register(fs)
	fs.StringVar(&c.dataDir, "data-dir", "./muster-data", "`directory` holding the database, master key and generated credentials")
	c.masterKey.name = "master-key"
	fs.Var(&c.masterKey, "master-key", "master `key` (64 hex digits) that seals secrets at rest; default: <data-dir>/master.key")
	fs.StringVar(&c.storeURL, "store", "", "the store's `URL`: a SQLite file path or sqlite://PATH (default <data-dir>/muster.db), or postgres://user:pass@host:5432/db")
}

// parseMasterKey returns the --master-key given by any layer (nil when
// none was), or an error naming where the bad one came from.
func (c *commonFlags) parseMasterKey() ([]byte, error) {
	if c.masterKey.value == "" {
		return nil, nil
	}
	key, err := secret.ParseKey(c.masterKey.value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.masterKey.source(), err)
	}
	return key, nil
}

func (c *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is not text or json", c.logFormat)
}

// operatorFlags are the flags of a command that calls a running Muster
// with an operator key. Parse also fills them from the environment
// (MUSTER_ENDPOINT, MUSTER_ACCESS_KEY_ID, MUSTER_SECRET_ACCESS_KEY).
type operatorFlags struct {
	endpoint, keyID, secret string
	// region is registered only by commands that sign with SigV4.
	region string
}

// operatorFlagSet returns the flag set of the command name that calls a
// running Muster, with the operator flags registered on it (the SigV4
// region too when sigv4 is set).
func operatorFlagSet(name string, sigv4 bool) (*flag.FlagSet, *operatorFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	o := new(operatorFlags)
	o.register(fs, sigv4)
	return fs, o
}

func (o *operatorFlags) register(fs *flag.FlagSet, sigv4 bool) {
	fs.StringVar(&o.endpoint, "endpoint", "http://127.0.0.1:8080", "Muster `URL`")
	fs.StringVar(&o.keyID, "access-key-id", "", "operator access key `id` (or MUSTER_ACCESS_KEY_ID)")
	fs.StringVar(&o.secret, "secret-access-key", "", "operator `secret` (or MUSTER_SECRET_ACCESS_KEY)")
	if sigv4 {
		fs.StringVar(&o.region, "region", server.DefaultRegion, "SigV4 `region`")
	}
}

// checkKey records each half of the operator key that no layer gave.
func (o *operatorFlags) checkKey(checks *flagChecks) {
	checks.check(o.keyID != "", "--access-key-id", "", "required (or MUSTER_ACCESS_KEY_ID)")
	checks.check(o.secret != "", "--secret-access-key", "", "required (or MUSTER_SECRET_ACCESS_KEY)")
}

// get reads path from the /v1 API with the key as a bearer credential.
func (o *operatorFlags) get(ctx context.Context, path string) (*http.Response, error) {
	return o.send(ctx, http.DefaultClient, http.MethodGet, path, nil)
}

// openToPlayers lets players start tickets in the matchmaking
// configuration name: configurations are closed to players until an
// operator opens them.
func (o *operatorFlags) openToPlayers(ctx context.Context, hc *http.Client, name string) error {
	path := "/v1/admin/matchmaking/configurations/" + url.PathEscape(name) + "/player-access"
	res, err := o.send(ctx, hc, http.MethodPut, path, map[string]bool{"allowed": true})
	if err != nil {
		return fmt.Errorf("PUT player-access: %w", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT player-access: %s: %s", res.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// send calls path of the /v1 API through hc with the key as a bearer
// credential and in, unless nil, as the JSON body.
func (o *operatorFlags) send(ctx context.Context, hc *http.Client, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(o.endpoint, "/")+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+o.keyID+":"+o.secret)
	return hc.Do(req)
}
