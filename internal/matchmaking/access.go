package matchmaking

import (
	"context"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/tagging"
)

// PlayerAccessTag is the tag that is a configuration's player access:
// "true" when players may start tickets in it through the player API,
// "false" when they may not. TagResource and UntagResource (from any AWS
// tool) and PUT /v1/admin/matchmaking/configurations/{name}/player-access
// write the same state, which ListTagsForResource reads back, so the tag
// and the route cannot disagree. UntagResource closes the configuration to
// players, as it was when made.
const PlayerAccessTag = "muster:player-access"

// PlayerAccessState is the tagging.StateTag of PlayerAccessTag, to be
// registered on matchmaking configurations.
func (s *Service) PlayerAccessState() tagging.StateTag { return accessState{s} }

type accessState struct{ s *Service }

func (a accessState) Get(ctx context.Context, r store.Reader, id string) (string, error) {
	c, _, err := a.s.config(ctx, r, id, "ResourceARN")
	if err != nil {
		return "", err
	}
	if c.PlayerAccess {
		return "true", nil
	}
	return "false", nil
}

func (a accessState) Set(ctx context.Context, w store.Writer, id, member, value string) error {
	allowed, ok := tagging.ParseBool(value)
	if value != "" && !ok {
		return fault.New(fault.Invalid, "%s: %s must be true or false, not %q", member, PlayerAccessTag, value)
	}
	c, version, err := a.s.config(ctx, w, id, "ResourceARN")
	if err != nil || c.PlayerAccess == allowed {
		return err
	}
	c.PlayerAccess = allowed
	_, err = w.Put(ctx, store.Record{Kind: KindConfig, ID: c.Name, Doc: store.MustJSON(c), Keys: store.Keys{c.RuleSetName}, Version: version})
	return err
}
