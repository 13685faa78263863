package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/playerdata"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// importLine is one line of an import file. Exactly one of identityId (a
// Muster identity) and developerUserId (the studio's own user id, whose
// developer identity is found or made) names the player.
type importLine struct {
	IdentityID      string                             `json:"identityId"`
	DeveloperUserID string                             `json:"developerUserId"`
	Attributes      map[string]gamelift.AttributeValue `json:"attributes"`
	Data            map[string]json.RawMessage         `json:"data"`
	TTLSeconds      int64                              `json:"ttlSeconds"`
}

const importBatch = 500

func runPlayersImport(ctx context.Context, env Env, args []string) int {
	fs, common := commonFlagSet("players import")
	dryRun := fs.Bool("dry-run", false, "check every line and report problems without writing")
	usage := "muster players import [--dry-run] FILE.jsonl   (one JSON object a line: {\"identityId\" or \"developerUserId\", \"attributes\", \"data\", \"ttlSeconds\"}; \"-\" reads standard input)"
	if ok, code := Parse(fs, env, usage, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(env.Stderr, "muster players import: give exactly one FILE.jsonl")
		return ExitUsage
	}
	var in io.Reader = os.Stdin
	if fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintln(env.Stderr, "muster players import:", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	db, box, err := openDataDir(ctx, *common)
	if err != nil {
		fmt.Fprintln(env.Stderr, "muster players import:", err)
		return 1
	}
	defer db.Close()
	imp, err := newImporter(ctx, db, box, *dryRun)
	if err != nil {
		fmt.Fprintln(env.Stderr, "muster players import:", err)
		return 1
	}
	n, bad, err := imp.run(ctx, in, env.Stderr)
	verb := "imported"
	if *dryRun {
		verb = "checked"
	}
	fmt.Fprintf(env.Stdout, "%s %d records; %d lines refused\n", verb, n, bad)
	if err != nil {
		fmt.Fprintln(env.Stderr, "muster players import:", err)
		return 1
	}
	if bad > 0 {
		return 1
	}
	return 0
}

type importer struct {
	ids     *identity.Service
	players *playerdata.Service
	dryRun  bool
}

func newImporter(ctx context.Context, db store.Store, box *secret.Box, dryRun bool) (*importer, error) {
	ids, err := identity.Open(ctx, identity.Config{Base: service.Base{Store: db}, Box: box})
	if err != nil {
		return nil, err
	}
	players, err := playerdata.New(playerdata.Config{Base: service.Base{Store: db}})
	if err != nil {
		return nil, err
	}
	return &importer{ids: ids, players: players, dryRun: dryRun}, nil
}

type numberedLine struct {
	n   int
	rec playerdata.Record
	dev string
}

// run reads in line by line, reports each refused line on errw with its
// number, and imports the others in batches of importBatch, each batch in
// one transaction.
func (im *importer) run(ctx context.Context, in io.Reader, errw io.Writer) (imported, bad int, err error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 2*playerdata.MaxRecordBytes)
	var batch []numberedLine
	flush := func() error {
		if len(batch) == 0 || im.dryRun {
			imported += len(batch)
			batch = batch[:0]
			return nil
		}
		var users []string
		for _, l := range batch {
			if l.dev != "" {
				users = append(users, l.dev)
			}
		}
		if len(users) > 0 {
			idOf, err := im.ids.DeveloperIdentities(ctx, users)
			if err != nil {
				return err
			}
			for i := range batch {
				if batch[i].dev != "" {
					batch[i].rec.IdentityID = idOf[batch[i].dev]
				}
			}
		}
		recs := make([]playerdata.Record, len(batch))
		for i, l := range batch {
			recs[i] = l.rec
		}
		if err := im.players.Import(ctx, recs); err != nil {
			return fmt.Errorf("lines %d to %d: %w", batch[0].n, batch[len(batch)-1].n, err)
		}
		imported += len(batch)
		batch = batch[:0]
		return nil
	}
	now := clock.Real{}.Now()
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		l, err := parseImportLine(line, now)
		if err != nil {
			fmt.Fprintf(errw, "line %d: %v\n", n, err)
			bad++
			continue
		}
		l.n = n
		batch = append(batch, l)
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return imported, bad, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return imported, bad, fmt.Errorf("read: %w", err)
	}
	return imported, bad, flush()
}

func parseImportLine(line []byte, now time.Time) (numberedLine, error) {
	var in importLine
	if err := httpx.Decode(line, &in); err != nil {
		return numberedLine{}, err
	}
	if (in.IdentityID == "") == (in.DeveloperUserID == "") {
		return numberedLine{}, errors.New("give exactly one of identityId and developerUserId")
	}
	if in.TTLSeconds < 0 || in.TTLSeconds > int64(playerdata.MaxTTL/time.Second) {
		return numberedLine{}, fmt.Errorf("$.ttlSeconds: must be 0 to %d", int64(playerdata.MaxTTL/time.Second))
	}
	rec := playerdata.Record{IdentityID: in.IdentityID, Attributes: in.Attributes, Data: in.Data}
	if in.TTLSeconds > 0 {
		rec.ExpiresAt = now.Add(time.Duration(in.TTLSeconds) * time.Second)
	}
	check := rec
	if check.IdentityID == "" {
		check.IdentityID = "developer-user" // checked by DeveloperIdentities
	}
	if err := playerdata.CheckRecord(check); err != nil {
		return numberedLine{}, err
	}
	return numberedLine{rec: rec, dev: in.DeveloperUserID}, nil
}
