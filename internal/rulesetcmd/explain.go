package rulesetcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/musterhq/muster/flexmatch"
)

// ExplainHelp summarises the explain verb.
const ExplainHelp = "show which tickets of a pool would match now and why the others wait"

const explainUsage = `Usage: muster ruleset explain FILE --tickets TICKETS.json [--now RFC3339] [--json]

Loads the waiting tickets of TICKETS.json into the matchmaking engine, runs
one cycle at the given time, prints the matches it forms and, for every ticket
still waiting, its expansion step and the rule that blocks it.

TICKETS.json is either an array of tickets or {"now": RFC3339, "tickets": [...]},
each ticket shaped like {"ticketId": "t1", "startTime": RFC3339, "players":
[{"playerId": "p1", "attributes": {"skill": {"N": 10}}, "latencyInMs": {"eu": 40}}]}.
Without --now the file's "now" is used, else the newest ticket's start time.`

type ticketsFile struct {
	Now     *time.Time         `json:"now"`
	Tickets []flexmatch.Ticket `json:"tickets"`
}

type explainOutput struct {
	Now     time.Time               `json:"now"`
	Matches []flexmatch.Match       `json:"matches"`
	Waiting []flexmatch.Explanation `json:"waiting"`
}

// Explain runs "muster ruleset explain".
func Explain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("explain", explainUsage, stderr)
	ticketsPath := fs.String("tickets", "", "JSON file with the pool of waiting tickets (required)")
	nowS := fs.String("now", "", "time of the cycle, RFC 3339 (default: the file's now, else the newest ticket's start)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	files, err := parseArgs(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if len(files) != 1 || *ticketsPath == "" {
		fmt.Fprintln(stderr, "explain: name one rule-set FILE and --tickets FILE")
		fs.Usage()
		return exitUsage
	}
	var now time.Time
	if *nowS != "" {
		if now, err = time.Parse(time.RFC3339Nano, *nowS); err != nil {
			fmt.Fprintf(stderr, "explain: --now: %v\n", err)
			return exitUsage
		}
	}
	rs, ok := loadRuleSet(files[0], stderr)
	if !ok {
		return exitFailed
	}
	tickets, fileNow, err := readTickets(*ticketsPath)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", *ticketsPath, err)
		return exitFailed
	}
	if now.IsZero() {
		now = fileNow
	}
	e := flexmatch.NewEngine(rs, flexmatch.Options{})
	for i, t := range tickets {
		if err := e.Add(t); err != nil {
			fmt.Fprintf(stderr, "%s: tickets[%d]: %v\n", *ticketsPath, i, err)
			return exitFailed
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "explain:", ctx.Err())
		return exitFailed
	}
	out := explainOutput{Now: now, Matches: e.Cycle(now)}
	for _, t := range tickets {
		x, err := e.Explain(t.ID, now)
		if err != nil {
			continue // matched in this cycle
		}
		out.Waiting = append(out.Waiting, x)
	}
	if *asJSON {
		return printJSON(stdout, stderr, "explain", out)
	}
	fmt.Fprintf(stdout, "at %s: %d match(es), %d ticket(s) waiting\n", now.Format(time.RFC3339), len(out.Matches), len(out.Waiting))
	for _, m := range out.Matches {
		var teams []string
		for _, t := range m.Teams {
			teams = append(teams, t.Name+"="+strings.Join(t.PlayerIDs, ","))
		}
		line := fmt.Sprintf("match: tickets %s; %s", strings.Join(m.TicketIDs, ", "), strings.Join(teams, " "))
		if len(m.Locations) > 0 {
			line += fmt.Sprintf("; best location %s (%.0f ms avg)", m.Locations[0].Location, m.Locations[0].AvgMs)
		}
		fmt.Fprintln(stdout, line)
	}
	for _, x := range out.Waiting {
		fmt.Fprint(stdout, x.String())
	}
	return exitOK
}

func readTickets(name string) ([]flexmatch.Ticket, time.Time, error) {
	b, err := readFile(name)
	if err != nil {
		return nil, time.Time{}, err
	}
	var f ticketsFile
	trim := strings.TrimSpace(string(b))
	if strings.HasPrefix(trim, "[") {
		err = json.Unmarshal(b, &f.Tickets)
	} else {
		err = json.Unmarshal(b, &f)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("not a tickets file: %w", err)
	}
	var now time.Time
	if f.Now != nil {
		now = *f.Now
	}
	for _, t := range f.Tickets {
		if f.Now == nil && t.StartTime.After(now) {
			now = t.StartTime
		}
	}
	return f.Tickets, now, nil
}
