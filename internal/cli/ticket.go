package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

func runTicketExplain(ctx context.Context, env Env, args []string) int {
	fs, op := operatorFlagSet("ticket explain", false)
	asJSON := fs.Bool("json", false, "print the explanation as JSON")
	if ok, code := Parse(fs, env, "muster ticket explain [flags] TICKET_ID", args); !ok {
		return code
	}
	var checks flagChecks
	if fs.NArg() != 1 {
		checks.add(fmt.Sprintf("give exactly one TICKET_ID (got %d arguments)", fs.NArg()))
	}
	op.checkKey(&checks)
	if checks.report(env.Stderr, "muster ticket explain") {
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
