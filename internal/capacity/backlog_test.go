package capacity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/store"
)

// aliasReadFails is a real reader whose reads of aliases fail, as a read
// from a database that went away mid-transaction does.
type aliasReadFails struct{ store.Reader }

var errDiskGone = errors.New("disk gone")

func (r aliasReadFails) Get(ctx context.Context, kind, id string) (store.Item, error) {
	if kind == fleet.KindAlias {
		return store.Item{}, errDiskGone
	}
	return r.Reader.Get(ctx, kind, id)
}

// A pending placement counts against the fleet location its queue's
// destination routes to; an alias that routes nowhere leaves it uncounted,
// but a failed read is an error, not an empty backlog.
func TestBacklogFollowsTheQueuesAlias(t *testing.T) {
	e := fleettest.New(t, loc)
	arns := gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}
	alias, err := e.Fleets.CreateAlias(e.Ctx, &gamelift.CreateAliasInput{Name: "live",
		RoutingStrategy: &gamelift.RoutingStrategy{Type: gamelift.RoutingSimple, FleetId: e.FleetID}})
	if err != nil {
		t.Fatal(err)
	}
	aliasID := alias.Alias.AliasId
	err = e.Store.Update(e.Ctx, func(w store.Writer) error {
		q := placement.Queue{Name: "q", Destinations: []string{arns.Build(gamelift.ResourceAlias, aliasID)}}
		if _, err := w.Put(e.Ctx, store.Record{Kind: placement.KindQueue, ID: q.Name, Doc: store.MustJSON(q)}); err != nil {
			return err
		}
		p := placement.Placement{PlacementID: "p1", QueueName: "q", Status: gamelift.PlacementPending, StartTime: e.Clock.Now()}
		_, err := w.Put(e.Ctx, store.Record{Kind: placement.KindPlacement, ID: p.PlacementID, Doc: store.MustJSON(p),
			Keys: store.Keys{p.Status, p.QueueName}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	backlog := capacity.Placements{Fleets: e.Fleets, ARNs: arns}
	waiting := func(wrap func(store.Reader) store.Reader) (map[capacity.FleetLocation]capacity.Waiting, error) {
		var out map[capacity.FleetLocation]capacity.Waiting
		err := e.Store.View(e.Ctx, func(r store.Reader) (err error) {
			out, err = backlog.Waiting(e.Ctx, wrap(r), e.Clock.Now())
			return err
		})
		return out, err
	}
	plain := func(r store.Reader) store.Reader { return r }

	if got, err := waiting(plain); err != nil || got[capacity.FleetLocation{FleetID: e.FleetID, Location: loc}].Count != 1 {
		t.Fatalf("through the alias: got %v, %v; want one placement waiting for %s at %s", got, err, e.FleetID, loc)
	}
	if got, err := waiting(func(r store.Reader) store.Reader { return aliasReadFails{r} }); !errors.Is(err, errDiskGone) {
		t.Fatalf("a failed read of the alias: got %v, %v; want the read's error", got, err)
	}
	if _, err := e.Fleets.DeleteAlias(e.Ctx, &gamelift.DeleteAliasInput{AliasId: aliasID}); err != nil {
		t.Fatal(err)
	}
	if got, err := waiting(plain); err != nil || len(got) != 0 {
		t.Fatalf("through a deleted alias: got %v, %v; want nothing waiting and no error", got, err)
	}
}
