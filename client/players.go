package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
)

// PlayerRecord is the signed-in player's record: matchmaking attributes
// (written only by the operator) and free data.
type PlayerRecord struct {
	IdentityID string `json:"identityId"`
	// Attributes are GameLift AttributeValues by name, such as
	// {"skill": {"N": 1500}}.
	Attributes map[string]json.RawMessage `json:"attributes"`
	Data       map[string]any             `json:"data"`
	// Version is 0 when the player has no record yet.
	Version int64 `json:"version"`
}

// Me reads the signed-in player's own record.
func (c *Client) Me(ctx context.Context) (*PlayerRecord, error) {
	var r PlayerRecord
	if err := c.call(ctx, request{method: http.MethodGet, path: "/v1/players/me", player: true, out: &r}); err != nil {
		return nil, err
	}
	return &r, nil
}

// AnyVersion makes UpdateMyData change the record whatever its version.
const AnyVersion = -1

// UpdateMyData merges data into the player's own record: a key with a nil
// value is removed. Players may write only the keys the operator made
// player-writable (403 otherwise), never attributes. version is the
// record's Version as last read (0 when there was none): a record changed
// since is refused with 412, so that two devices of one player do not
// overwrite each other; AnyVersion skips the check.
func (c *Client) UpdateMyData(ctx context.Context, version int64, data map[string]any) (*PlayerRecord, error) {
	r := request{method: http.MethodPatch, path: "/v1/players/me", player: true, in: map[string]any{"data": data}}
	if version != AnyVersion {
		r.ifMatch = strconv.Quote(strconv.FormatInt(version, 10))
	}
	var rec PlayerRecord
	r.out = &rec
	if err := c.call(ctx, r); err != nil {
		return nil, err
	}
	return &rec, nil
}
