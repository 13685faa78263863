package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/server"
)

// TicketCommand is `muster ticket`: operator verbs on matchmaking tickets.
func TicketCommand() *Command {
	return &Command{Name: "ticket", Summary: "inspect matchmaking tickets", Sub: []*Command{
		{Name: "explain", Summary: "say why a matchmaking ticket is where it is (GET /v1/admin/matchmaking/tickets/{id}/explain)", Run: runTicketExplain},
	}}
}

// operatorFlags are the flags of a command that calls a running Muster
// with an operator key. Parse also fills them from the environment
// (MUSTER_ENDPOINT, MUSTER_ACCESS_KEY_ID, MUSTER_SECRET_ACCESS_KEY).
type operatorFlags struct {
	endpoint, keyID, secret string
	// region is registered only by commands that sign with SigV4.
	region string
}

func (o *operatorFlags) register(fs *flag.FlagSet, sigv4 bool) {
	fs.StringVar(&o.endpoint, "endpoint", "http://127.0.0.1:8080", "Muster `URL`")
	fs.StringVar(&o.keyID, "access-key-id", "", "operator access key `id` (or MUSTER_ACCESS_KEY_ID)")
	fs.StringVar(&o.secret, "secret-access-key", "", "operator `secret` (or MUSTER_SECRET_ACCESS_KEY)")
	if sigv4 {
		fs.StringVar(&o.region, "region", server.DefaultRegion, "SigV4 `region`")
	}
}

// hasKey reports whether both halves of the key were given.
func (o *operatorFlags) hasKey() bool { return o.keyID != "" && o.secret != "" }

// get reads path from the /v1 API with the key as a bearer credential.
func (o *operatorFlags) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(o.endpoint, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+o.keyID+":"+o.secret)
	return http.DefaultClient.Do(req)
}

func runTicketExplain(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("ticket explain", flag.ContinueOnError)
	var op operatorFlags
	op.register(fs, false)
	asJSON := fs.Bool("json", false, "print the explanation as JSON")
	if ok, code := Parse(fs, env, "muster ticket explain [flags] TICKET_ID", args); !ok {
		return code
	}
	if fs.NArg() != 1 || !op.hasKey() {
		fmt.Fprintln(env.Stderr, "muster ticket explain: need one TICKET_ID and operator credentials (MUSTER_ACCESS_KEY_ID, MUSTER_SECRET_ACCESS_KEY)")
		return ExitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := op.get(ctx, "/v1/admin/matchmaking/tickets/"+url.PathEscape(fs.Arg(0))+"/explain")
	if err != nil {
		fmt.Fprintf(env.Stderr, "muster ticket explain: %v\n", err)
		return 1
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		fmt.Fprintf(env.Stderr, "muster ticket explain: %s: %s\n", res.Status, strings.TrimSpace(string(body)))
		return 1
	}
	if *asJSON {
		env.Stdout.Write(body)
		return 0
	}
	var x struct {
		TicketID, Status, Text string
	}
	if err := json.Unmarshal(body, &x); err != nil {
		fmt.Fprintf(env.Stderr, "muster ticket explain: unreadable answer: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "%s (%s)\n%s\n", x.TicketID, x.Status, strings.TrimRight(x.Text, "\n"))
	return 0
}
