// Command muster is Muster's one binary: the control plane (serve), and the
// operator verbs. Run `muster help` for the list.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/musterhq/muster/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Main(ctx, cli.OSEnv(version), commands(), os.Args[1:]))
}

func commands() []*cli.Command {
	return []*cli.Command{
		cli.ServeCommand(),
		cli.KeysCommand(),
		cli.AgentCommand(),
		cli.PlayersCommand(),
		cli.RulesetCommand(),
		cli.LoadtestCommand(),
		cli.TicketCommand(),
		cli.VersionCommand(),
	}
}
