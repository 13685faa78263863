package fleet

import (
	"context"
	"fmt"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// ListFleets pages through fleet ids. GameLift's filters name a build or a
// script the fleets run; Muster fleets run the studio's own processes on
// its own computes, never an uploaded build or script, so a filter matches
// no fleet (it is still checked, as GameLift checks it).
func (s *Service) ListFleets(ctx context.Context, in *gamelift.ListFleetsInput) (*gamelift.ListFleetsOutput, error) {
	n, after, err := service.AuthorizeList(ctx, in.Limit, 50, 0, in.NextToken, func(v *fault.Validator) {
		s.cfg.Formats.CheckSet(v, "BuildId", "BuildIdOrArn", in.BuildId)
		s.cfg.Formats.CheckSet(v, "ScriptId", "ScriptIdOrArn", in.ScriptId)
		v.Check(in.BuildId == "" || in.ScriptId == "", "ScriptId", "cannot be given with BuildId: filter by one of them")
	})
	if err != nil {
		return nil, err
	}
	out := &gamelift.ListFleetsOutput{FleetIds: []string{}}
	if in.BuildId != "" || in.ScriptId != "" {
		return out, nil
	}
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		items, next, err := store.FindPage(ctx, r, store.Query{Kind: KindFleet, Prefix: true, After: after, NoDocs: true}, n)
		for _, it := range items {
			out.FleetIds = append(out.FleetIds, it.ID)
		}
		out.NextToken = next
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list fleets: %w", err)
	}
	return out, nil
}
