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
	tuneGC() // gc.go says why
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
		cli.BenchCommand(),
		cli.TicketCommand(),
		cli.StoreCommand(),
		cli.PlayCommand(),
		cli.VersionCommand(),
	}
}
