package cli

import (
	"context"
	"io"

	"github.com/musterhq/muster/internal/rulesetcmd"
)

// Commands is every verb of the muster binary, as `muster help` lists them.
// Each Run lives in the file named after its verb.
func Commands() []*Command {
	return []*Command{
		{Name: "serve", Summary: "run the control plane (GameLift-compatible API, player API, admin API)", Run: runServe},
		// The keys verbs work on the data directory directly: a running
		// server sees a change within its key cache lifetime, 5 s.
		{Name: "keys", Summary: "manage operator access keys (create, list, revoke) and rotate the token signing key", Sub: []*Command{
			{Name: "create", Summary: "create an access key and print its id and secret once", Run: runKeysCreate},
			{Name: "list", Summary: "list access keys (never secrets)", Run: runKeysList},
			{Name: "revoke", Summary: "revoke an access key: muster keys revoke ACCESS_KEY_ID", Run: runKeysRevoke},
			{Name: "rotate-signing", Summary: "make a new key sign player access tokens (old ones verify until their tokens expire)", Run: runKeysRotateSigning},
		}},
		{Name: "agent", Summary: "run the host agent: register this host as a compute and run the fleet's server processes", Run: runAgent},
		{Name: "players", Summary: "manage the player data table (import)", Sub: []*Command{
			{Name: "import", Summary: "import player records from a JSON Lines file: muster players import FILE.jsonl", Run: runPlayersImport},
		}},
		// The FlexMatch rule-set tools of package flexmatch, offline.
		{Name: "ruleset", Summary: "validate, simulate and explain FlexMatch rule sets", Sub: []*Command{
			{Name: "validate", Summary: rulesetcmd.ValidateHelp, Run: ruleset(rulesetcmd.Validate)},
			{Name: "simulate", Summary: rulesetcmd.SimulateHelp, Run: ruleset(rulesetcmd.Simulate)},
			{Name: "explain", Summary: rulesetcmd.ExplainHelp, Run: ruleset(rulesetcmd.Explain)},
		}},
		// Muster's own load tools, against a running Muster.
		{Name: "loadtest", Summary: "measure a running Muster (control API reads and writes, matchmaking, the whole player flow)", Sub: []*Command{
			{Name: "control", Summary: "control-API calls/s in either codec: ListLocations (read) or CreateLocation (durable write)", Run: runLoadtestControl},
			{Name: "matchmaking", Summary: "tickets/s through the control API (StartMatchmaking, Go SDK) or, with --api player, the player API (POST /v1/matchmaking/tickets with players' tokens), and the time from a match's last ticket to PotentialMatchCreated (--endpoint URL1,URL2,… spreads tickets over replicas)", Run: runLoadtestMatchmaking},
			{Name: "flow", Summary: "players/s through the whole player flow: sign-in, record, ticket, match, placement, joining the game server", Run: runLoadtestFlow},
		}},
		// The engine's figures without the test suite.
		{Name: "bench", Summary: "measure parts of Muster offline (engine: one FlexMatch pass over fresh tickets)", Sub: []*Command{
			{Name: "engine", Summary: "one matchmaking pass over N fresh tickets, against the sort-and-cut reference", Run: runBenchEngine},
		}},
		{Name: "ticket", Summary: "inspect matchmaking tickets", Sub: []*Command{
			{Name: "explain", Summary: "say why a matchmaking ticket is where it is (GET /v1/admin/matchmaking/tickets/{id}/explain)", Run: runTicketExplain},
		}},
		{Name: "store", Summary: "operate on a whole store (copy SQLite to PostgreSQL)", Sub: []*Command{
			{Name: "copy", Summary: "copy every record and event into an empty store: muster store copy --from URL --to URL", Run: runStoreCopy},
		}},
		// Bots walk the whole player flow against a running Muster, the way
		// a game client would, and show how long each step took.
		{Name: "play", Summary: "play a match with bots: sign in, measure latency, get matched, join the game server, play", Run: runPlay},
		{Name: "version", Summary: "print the version", Run: runVersion},
	}
}

// ruleset adapts a verb of package rulesetcmd to a Command's Run.
func ruleset(verb func(ctx context.Context, args []string, stdout, stderr io.Writer) int) func(context.Context, Env, []string) int {
	return func(ctx context.Context, env Env, args []string) int {
		return verb(ctx, args, env.Stdout, env.Stderr)
	}
}
