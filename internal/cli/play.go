package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/musterhq/muster/client"
	"github.com/musterhq/muster/internal/clock"
)

// defaultPlayEndpoint is where `muster serve` listens by default.
const defaultPlayEndpoint = "http://127.0.0.1:8080"

// playOptions are `muster play`'s flags.
type playOptions struct {
	// endpoint remembers whether MUSTER_ENDPOINT gave it, for its error.
	endpoint         sourcedString
	config           string
	players          int
	playFor, timeout time.Duration
	wait             time.Duration
	polling          bool
}

func runPlay(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("play", flag.ContinueOnError)
	var o playOptions
	o.endpoint = sourcedString{name: "endpoint", value: defaultPlayEndpoint}
	fs.Var(&o.endpoint, "endpoint", "Muster `URL` (or MUSTER_ENDPOINT)")
	fs.StringVar(&o.config, "config", "dev-duel", "matchmaking `configuration` to play in (serve --dev makes dev-duel and dev-5v5)")
	fs.IntVar(&o.players, "players", 2, "how many bots play (enough for the configuration's teams)")
	fs.DurationVar(&o.playFor, "play-for", 3*time.Second, "how long each bot plays once in the game (0: it leaves at once)")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "give up after this long, once the server is ready")
	fs.DurationVar(&o.wait, "wait", 2*time.Minute, "wait this long for the server to be ready (serve --dev still building, say) before the bots start; 0 starts them at once")
	fs.BoolVar(&o.polling, "polling", false, "follow tickets by polling instead of the server's event stream")
	if ok, code := parsePlay(fs, env, &o, args); !ok {
		return code
	}
	if err := waitReady(ctx, clock.Real{}, o.endpoint.value, o.wait, env.Stdout); err != nil {
		fmt.Fprintln(env.Stderr, "muster play:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	tl := &timeline{w: env.Stdout, start: time.Now()}
	fmt.Fprintf(env.Stdout, "%d bots play %s on %s\n", o.players, o.config, o.endpoint.value)
	bots := make([]*bot, o.players)
	var wg sync.WaitGroup
	for i := range bots {
		bots[i] = &bot{n: i + 1, opts: o, tl: tl}
		wg.Go(func() { bots[i].run(ctx) })
	}
	wg.Wait()
	return tl.summary(env.Stdout, bots)
}

// parsePlay parses play's flags. It does not use Parse: --config names a
// matchmaking configuration here, not a config file, so the only layer
// under the flags is MUSTER_ENDPOINT.
func parsePlay(fs *flag.FlagSet, env Env, o *playOptions, args []string) (bool, int) {
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: muster play [--endpoint URL] [--config NAME] [--players N] [flags]\n\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if ok, code := parseWithEnv(fs, env, args, usage, "endpoint"); !ok {
		return false, code
	}
	var checks flagChecks
	if fs.NArg() > 0 {
		checks.add(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	checks.checkEndpoint(o.endpoint.source(), o.endpoint.value)
	checks.check(o.players >= 1, "--players", strconv.Itoa(o.players), "must be at least 1")
	checks.check(o.playFor >= 0, "--play-for", o.playFor.String(), "must not be negative")
	checks.check(o.timeout > 0, "--timeout", o.timeout.String(), "must be above 0")
	checks.check(o.wait >= 0, "--wait", o.wait.String(), "must not be negative (0 starts the bots at once)")
	if checks.report(env.Stderr, "muster play") {
		return false, ExitUsage
	}
	return true, 0
}

// timeline prints each bot's steps as they finish.
type timeline struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (t *timeline) print(b *bot, step string, took time.Duration, note string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "%8s  bot %-3d %-10s %8s  %s\n", "+"+round(time.Since(t.start)).String(), b.n, step, round(took), note)
}

// summary prints the outcome and returns the exit code: 1 when a bot
// failed, naming its step.
func (t *timeline) summary(w io.Writer, bots []*bot) int {
	failed := 0
	for _, b := range bots {
		if b.err != nil {
			failed++
			fmt.Fprintf(w, "bot %d failed at %s: %v\n", b.n, b.failedAt, b.err)
		}
	}
	took := round(time.Since(t.start))
	if failed > 0 {
		fmt.Fprintf(w, "%d of %d bots failed (%s)\n", failed, len(bots), took)
		return 1
	}
	fmt.Fprintf(w, "all %d bots were matched, validated by the game server and played (%s)\n", len(bots), took)
	return 0
}

func round(d time.Duration) time.Duration {
	if d < 10*time.Millisecond {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// bot is one player walking the flow.
type bot struct {
	n    int
	opts playOptions
	tl   *timeline
	c    *client.Client
	// failedAt names the step that failed, err why.
	failedAt string
	err      error
}

// step runs f as the named step and prints it; a failure stops the bot.
func (b *bot) step(name string, f func() (string, error)) bool {
	began := time.Now()
	note, err := f()
	took := time.Since(began)
	if err != nil {
		b.failedAt, b.err = name, err
		b.tl.print(b, name, took, "FAILED: "+oneLine(err.Error()))
		return false
	}
	b.tl.print(b, name, took, note)
	return true
}

func (b *bot) run(ctx context.Context) {
	var opts []client.Option
	if b.opts.polling {
		opts = append(opts, client.WithPolling())
	}
	b.c = client.New(b.opts.endpoint.value, append(opts, client.WithUserAgent("muster-play/1"))...)
	var latencies map[string]int
	var ticket *client.Ticket
	var match *client.Match
	var g *arenaGame
	_ = b.step("sign-in", func() (string, error) {
		s, err := b.c.SignInAnonymous(ctx)
		return "player " + s.IdentityID, err
	}) && b.step("latency", func() (l string, err error) {
		latencies, err = b.c.MeasureLatencies(ctx)
		return formatLatencies(latencies), err
	}) && b.step("ticket", func() (string, error) {
		var err error
		ticket, err = b.c.StartMatchmaking(ctx, b.opts.config, latencies)
		if err != nil {
			return "", err
		}
		return "ticket " + ticket.TicketID + " " + ticket.Status, nil
	}) && b.step("match", func() (string, error) {
		return b.waitMatch(ctx, ticket.TicketID, &match)
	}) && b.step("connect", func() (string, error) {
		var err error
		g, err = dialArena(ctx, match.Addr())
		return match.Addr(), err
	}) && b.step("validated", func() (string, error) {
		return b.join(ctx, &g, match)
	}) && b.step("play", func() (string, error) {
		return g.play(ctx, b.opts.playFor)
	})
	if g != nil {
		g.close()
	}
}

// waitMatch follows the ticket to its outcome, noting when each status
// was first seen.
func (b *bot) waitMatch(ctx context.Context, ticketID string, out **client.Match) (string, error) {
	began := time.Now()
	var seen []string
	m, err := b.c.Wait(ctx, ticketID, client.OnStatus(func(t *client.Ticket) {
		seen = append(seen, fmt.Sprintf("%s@%s", t.Status, round(time.Since(began))))
	}), client.OnAcceptance(func(t *client.Ticket) {
		// A bot takes any match proposed (configurations that require acceptance).
		if err := b.c.AcceptMatch(ctx, t.TicketID, true); err != nil {
			seen = append(seen, "AcceptMatch failed: "+oneLine(err.Error()))
		}
	}))
	if err != nil {
		why := b.explain(ctx, ticketID)
		if ctx.Err() != nil {
			// A bot that gives up leaves no ticket behind to be matched
			// with the next run's bots.
			stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = b.c.CancelTicket(stop, ticketID)
		}
		return "", fmt.Errorf("%w (seen: %s)%s", err, strings.Join(seen, " "), why)
	}
	if m.Addr() == "" || m.PlayerSessionID == "" {
		return "", fmt.Errorf("ticket %s COMPLETED without a game server or a player session for this player", ticketID)
	}
	*out = m
	return fmt.Sprintf("team %s, %s", m.Team, strings.Join(seen, " ")), nil
}

// join hands the game server the bot's player session. A game server
// that has not started the game session yet is asked again, on a new
// connection, for a few seconds, as a game client would.
func (b *bot) join(ctx context.Context, g **arenaGame, m *client.Match) (string, error) {
	deadline := time.Now().Add(5 * time.Second)
	for tries := 1; ; tries++ {
		note, err := (*g).join(ctx, m.PlayerSessionID)
		if err == nil || !strings.Contains(err.Error(), notStarted) || time.Now().After(deadline) {
			if tries > 1 {
				note += fmt.Sprintf(" (after %d tries: the game session was not started yet)", tries)
			}
			return note, err
		}
		(*g).close()
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if *g, err = dialArena(ctx, m.Addr()); err != nil {
			return "", err
		}
	}
}

// formatLatencies renders location → ms as "custom-dev=1ms ...", sorted.
func formatLatencies(l map[string]int) string {
	if len(l) == 0 {
		return "no location beacon answered"
	}
	var parts []string
	for loc, ms := range l {
		parts = append(parts, fmt.Sprintf("%s=%dms", loc, ms))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// explain asks the server why a ticket did not get a match, for the
// failure's message ("" when it cannot say).
func (b *bot) explain(ctx context.Context, ticketID string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	x, err := b.c.Explain(ctx, ticketID)
	if err != nil || x.Text == "" {
		return ""
	}
	return "; the server explains: " + oneLine(strings.TrimSpace(x.Text))
}
