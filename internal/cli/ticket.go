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
)

// TicketCommand is `muster ticket`: operator verbs on matchmaking tickets.
func TicketCommand() *Command {
	return &Command{Name: "ticket", Summary: "inspect matchmaking tickets", Sub: []*Command{
		{Name: "explain", Summary: "say why a matchmaking ticket is where it is (GET /v1/admin/matchmaking/tickets/{id}/explain)", Run: runTicketExplain},
	}}
}

func runTicketExplain(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("ticket explain", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "http://127.0.0.1:8080", "Muster `URL`")
	keyID := fs.String("access-key-id", "", "operator access key `id` (or MUSTER_ACCESS_KEY_ID)")
	secret := fs.String("secret-access-key", "", "operator `secret` (or MUSTER_SECRET_ACCESS_KEY)")
	asJSON := fs.Bool("json", false, "print the explanation as JSON")
	if ok, code := Parse(fs, env, "muster ticket explain [flags] TICKET_ID", args); !ok {
		return code
	}
	if *keyID == "" {
		*keyID = env.Getenv("MUSTER_ACCESS_KEY_ID")
	}
	if *secret == "" {
		*secret = env.Getenv("MUSTER_SECRET_ACCESS_KEY")
	}
	if fs.NArg() != 1 || *keyID == "" || *secret == "" {
		fmt.Fprintln(env.Stderr, "muster ticket explain: need one TICKET_ID and operator credentials (MUSTER_ACCESS_KEY_ID, MUSTER_SECRET_ACCESS_KEY)")
		return ExitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	u := strings.TrimRight(*endpoint, "/") + "/v1/admin/matchmaking/tickets/" + url.PathEscape(fs.Arg(0)) + "/explain"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		fmt.Fprintf(env.Stderr, "muster ticket explain: %v\n", err)
		return ExitUsage
	}
	req.Header.Set("Authorization", "Bearer "+*keyID+":"+*secret)
	res, err := http.DefaultClient.Do(req)
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
