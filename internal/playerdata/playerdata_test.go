package playerdata_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/playerdata"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store/sqlite"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
)

type env struct {
	dir string
	clk *clock.Fake
	db  *sqlite.DB
	svc *playerdata.Service
}

func newEnv(t testing.TB, cfg playerdata.Config) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), clk: clock.NewFake(t0)}
	e.open(t, cfg)
	return e
}

func (e *env) open(t testing.TB, cfg playerdata.Config) {
	t.Helper()
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(e.dir, "muster.db"), Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg.Store, cfg.Clock = db, e.clk
	svc, err := playerdata.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.db, e.svc = db, svc
}

func num(n float64) *gamelift.AttributeValue { return &gamelift.AttributeValue{N: &n} }
func str(s string) *gamelift.AttributeValue  { return &gamelift.AttributeValue{S: &s} }
func version(n int64) playerdata.Condition   { return playerdata.Condition{IfMatch: &n} }

func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) || len(fe.Fields) == 0 {
		t.Fatalf("got %v, want a field error", err)
	}
	return fe.Fields[0].Field
}

func TestOperatorsMergeAttributesAndData(t *testing.T) {
	e := newEnv(t, playerdata.Config{})
	rec, err := e.svc.Update(ctx, "p1", playerdata.Patch{
		Attributes: map[string]*gamelift.AttributeValue{"skill": num(20), "rank": str("gold")},
		Data:       map[string]json.RawMessage{"level": json.RawMessage(`7`), "name": json.RawMessage(`"Ann"`)},
	}, playerdata.Condition{})
	if err != nil || rec.Version != 1 || *rec.Attributes["skill"].N != 20 || string(rec.Data["level"]) != "7" {
		t.Fatalf("%+v, %v", rec, err)
	}
	rec, err = e.svc.Update(ctx, "p1", playerdata.Patch{
		Attributes: map[string]*gamelift.AttributeValue{"skill": num(25), "rank": nil},
		Data:       map[string]json.RawMessage{"name": json.RawMessage(`null`)},
	}, version(1))
	if err != nil || rec.Version != 2 || *rec.Attributes["skill"].N != 25 || len(rec.Attributes) != 1 || len(rec.Data) != 1 {
		t.Fatalf("%+v, %v", rec, err)
	}
	attrs, err := e.svc.Attributes(ctx, "p1")
	if err != nil || len(attrs) != 1 || *attrs["skill"].N != 25 {
		t.Fatalf("%v, %v", attrs, err)
	}
	none, err := e.svc.Attributes(ctx, "nobody")
	if err != nil || len(none) != 0 {
		t.Fatalf("a player without a record: %v, %v", none, err)
	}
}

func TestOptimisticConcurrency(t *testing.T) {
	e := newEnv(t, playerdata.Config{})
	if _, err := e.svc.Update(ctx, "p1", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": num(1)}}, version(0)); err != nil {
		t.Fatalf("If-Match 0 on a new record: %v", err)
	}
	if _, err := e.svc.Update(ctx, "p1", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": num(2)}}, version(0)); !fault.Is(err, fault.PreconditionFailed) {
		t.Fatalf("If-Match 0 on an existing record: %v", err)
	}
	if _, err := e.svc.Update(ctx, "p1", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": num(2)}}, version(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Update(ctx, "p1", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": num(3)}}, version(1)); !fault.Is(err, fault.PreconditionFailed) {
		t.Fatalf("a stale version: %v", err)
	}
	if err := e.svc.Delete(ctx, "p1", version(1)); !fault.Is(err, fault.PreconditionFailed) {
		t.Fatalf("delete at a stale version: %v", err)
	}
	rec, _ := e.svc.Get(ctx, "p1")
	if *rec.Attributes["skill"].N != 2 {
		t.Fatalf("a refused write changed the record: %+v", rec)
	}

	t.Run("of concurrent writers at one version exactly one wins", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := range 10 {
			wg.Go(func() {
				_, err := e.svc.Update(ctx, "p1", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": num(float64(i))}}, version(2))
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !fault.Is(err, fault.PreconditionFailed) {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d writers won", wins)
		}
	})
	t.Run("unconditional concurrent writers all land", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				key := string(rune('a' + i))
				if _, err := e.svc.Update(ctx, "p2", playerdata.Patch{Data: map[string]json.RawMessage{key: json.RawMessage(`1`)}}, playerdata.Condition{}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		rec, _ := e.svc.Get(ctx, "p2")
		if len(rec.Data) != 20 || rec.Version != 20 {
			t.Fatalf("%d keys at version %d", len(rec.Data), rec.Version)
		}
	})
}

func TestPlayersWriteOnlyWritableDataKeys(t *testing.T) {
	e := newEnv(t, playerdata.Config{PlayerWritable: []string{"displayName", "avatar"}})
	rec, err := e.svc.UpdateAsPlayer(ctx, "p1", playerdata.Patch{Data: map[string]json.RawMessage{"displayName": json.RawMessage(`"Ann"`)}}, playerdata.Condition{})
	if err != nil || string(rec.Data["displayName"]) != `"Ann"` {
		t.Fatalf("%+v, %v", rec, err)
	}
	for _, tt := range []struct {
		name string
		p    playerdata.Patch
	}{
		{"a matchmaking attribute", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": num(9999)}}},
		{"removing a matchmaking attribute", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": nil}}},
		{"a data key not marked writable", playerdata.Patch{Data: map[string]json.RawMessage{"coins": json.RawMessage(`1000000`)}}},
		{"the expiry", playerdata.Patch{TTL: new(time.Duration)}},
	} {
		t.Run(tt.name+" is forbidden", func(t *testing.T) {
			if _, err := e.svc.UpdateAsPlayer(ctx, "p1", tt.p, playerdata.Condition{}); !fault.Is(err, fault.Forbidden) {
				t.Fatalf("got %v, want Forbidden", err)
			}
		})
	}
	rec, _ = e.svc.Get(ctx, "p1")
	if rec.Version != 1 || len(rec.Attributes) != 0 || len(rec.Data) != 1 {
		t.Fatalf("forbidden writes changed the record: %+v", rec)
	}
}

func TestInvalidPatchesNameTheField(t *testing.T) {
	e := newEnv(t, playerdata.Config{})
	long := string(make([]byte, 101))
	for _, tt := range []struct {
		name  string
		p     playerdata.Patch
		field string
	}{
		{"two members set", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": {S: new(string), N: new(float64)}}}, "$.attributes.skill"},
		{"no member set", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": {}}}, "$.attributes.skill"},
		{"an empty S", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"rank": str("")}}, "$.attributes.rank.S"},
		{"a long SL item", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"modes": {SL: []string{"ok", long}}}}, "$.attributes.modes.SL[1]"},
		{"an empty SDM key", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"maps": {SDM: map[string]float64{"": 1}}}}, `$.attributes.maps.SDM[""]`},
		{"an odd attribute name", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"": num(1)}}, `$.attributes[""]`},
		{"a data value that is not JSON", playerdata.Patch{Data: map[string]json.RawMessage{"x y": json.RawMessage(`{`)}}, `$.data["x y"]`},
	} {
		t.Run(tt.name+" is invalid", func(t *testing.T) {
			_, err := e.svc.Update(ctx, "p1", tt.p, playerdata.Condition{})
			if got := fieldOf(t, err); got != tt.field {
				t.Fatalf("field %s, want %s (%v)", got, tt.field, err)
			}
		})
	}
	if _, err := e.svc.Get(ctx, "p1"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("invalid patches made a record: %v", err)
	}
	if _, err := e.svc.Get(ctx, "bad id"); fieldOf(t, err) != "identityId" {
		t.Fatal("a bad identity id is not named")
	}
}

func TestRecordsExpireAfterTheirTTL(t *testing.T) {
	e := newEnv(t, playerdata.Config{DefaultTTL: 48 * time.Hour})
	hour := time.Hour
	if _, err := e.svc.Update(ctx, "short", playerdata.Patch{Data: map[string]json.RawMessage{"a": json.RawMessage(`1`)}, TTL: &hour}, playerdata.Condition{}); err != nil {
		t.Fatal(err)
	}
	rec, err := e.svc.Update(ctx, "default", playerdata.Patch{Data: map[string]json.RawMessage{"a": json.RawMessage(`1`)}}, playerdata.Condition{})
	if err != nil || !rec.ExpiresAt.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("%+v, %v", rec, err)
	}
	var zero time.Duration
	if _, err := e.svc.Update(ctx, "forever", playerdata.Patch{Data: map[string]json.RawMessage{"a": json.RawMessage(`1`)}, TTL: &zero}, playerdata.Condition{}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	if _, err := e.svc.Get(ctx, "short"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("an expired record is still there: %v", err)
	}
	if me, err := e.svc.Me(ctx, "short"); err != nil || me.Version != 0 || len(me.Data) != 0 {
		t.Fatalf("an expired record as seen by its player: %+v, %v", me, err)
	}
	// A new write after expiry starts a fresh record.
	if rec, err := e.svc.Update(ctx, "short", playerdata.Patch{Data: map[string]json.RawMessage{"b": json.RawMessage(`2`)}}, version(0)); err != nil || rec.Version != 1 || len(rec.Data) != 1 {
		t.Fatalf("%+v, %v", rec, err)
	}
	e.clk.Advance(47 * time.Hour)
	if _, err := e.svc.Get(ctx, "default"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("a record past the default TTL: %v", err)
	}
	e.clk.Advance(365 * 24 * time.Hour)
	if _, err := e.svc.Get(ctx, "forever"); err != nil {
		t.Fatalf("a record without expiry: %v", err)
	}
}

func TestRecordsSurviveARestart(t *testing.T) {
	e := newEnv(t, playerdata.Config{})
	if _, err := e.svc.Update(ctx, "p1", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": num(20)}}, playerdata.Condition{}); err != nil {
		t.Fatal(err)
	}
	e.db.Close()
	e.open(t, playerdata.Config{})
	rec, err := e.svc.Get(ctx, "p1")
	if err != nil || rec.Version != 1 || *rec.Attributes["skill"].N != 20 {
		t.Fatalf("%+v, %v", rec, err)
	}
}

func TestDeleteAndImport(t *testing.T) {
	e := newEnv(t, playerdata.Config{})
	if err := e.svc.Delete(ctx, "p1", playerdata.Condition{}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("deleting nothing: %v", err)
	}
	recs := []playerdata.Record{
		{IdentityID: "p1", Attributes: map[string]gamelift.AttributeValue{"skill": *num(10)}},
		{IdentityID: "p2", Data: map[string]json.RawMessage{"x": json.RawMessage(`[1,2]`)}},
	}
	if err := e.svc.Import(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Import(ctx, []playerdata.Record{{IdentityID: "p3"}, {IdentityID: "p4", Attributes: map[string]gamelift.AttributeValue{"bad": {}}}}); err == nil {
		t.Fatal("an invalid batch was imported")
	}
	if _, err := e.svc.Get(ctx, "p3"); !fault.Is(err, fault.NotFound) {
		t.Fatal("a refused batch was partly written")
	}
	if err := e.svc.Delete(ctx, "p1", version(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(ctx, "p1"); !fault.Is(err, fault.NotFound) {
		t.Fatal("a deleted record is still there")
	}
}

func TestAnotherProcessesWritesAreSeenWithinTheCacheTTL(t *testing.T) {
	e := newEnv(t, playerdata.Config{})
	other, err := playerdata.New(playerdata.Config{Base: service.Base{Store: e.db, Clock: e.clk}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Update(ctx, "p1", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": num(1)}}, playerdata.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Update(ctx, "p1", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": num(2)}}, playerdata.Condition{}); err != nil {
		t.Fatal(err)
	}
	attrs, _ := e.svc.Attributes(ctx, "p1")
	if *attrs["skill"].N != 1 {
		t.Fatalf("skill %v: expected the cached value within the TTL", *attrs["skill"].N)
	}
	e.clk.Advance(2 * time.Second)
	attrs, _ = e.svc.Attributes(ctx, "p1")
	if *attrs["skill"].N != 2 {
		t.Fatalf("skill %v after the cache TTL, want 2", *attrs["skill"].N)
	}
	// Its own writes are seen at once.
	if _, err := e.svc.Update(ctx, "p1", playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{"skill": num(3)}}, playerdata.Condition{}); err != nil {
		t.Fatal(err)
	}
	if attrs, _ = e.svc.Attributes(ctx, "p1"); *attrs["skill"].N != 3 {
		t.Fatalf("skill %v right after a write, want 3", *attrs["skill"].N)
	}
	if err := e.svc.Delete(ctx, "p1", playerdata.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(ctx, "p1"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("right after a delete: %v", err)
	}
}
