package controlapi

import (
	"errors"
	"reflect"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
)

// fuzzInput is a representative operation input: every kind of member the
// GameLift shapes use, under the names the SDK requests captured in
// testdata/fuzz carry.
type fuzzInput struct {
	LocationName              string                    `json:"LocationName,omitempty"`
	Tags                      []gamelift.Tag            `json:"Tags,omitempty"`
	Filters                   []gamelift.LocationFilter `json:"Filters,omitempty"`
	Limit                     *int32                    `json:"Limit,omitempty"`
	NextToken                 string                    `json:"NextToken,omitempty"`
	FleetId                   string                    `json:"FleetId,omitempty"`
	StartTime                 *gamelift.Timestamp       `json:"StartTime,omitempty"`
	EndTime                   *gamelift.Timestamp       `json:"EndTime,omitempty"`
	PlacementId               string                    `json:"PlacementId,omitempty"`
	GameSessionQueueName      string                    `json:"GameSessionQueueName,omitempty"`
	MaximumPlayerSessionCount *int32                    `json:"MaximumPlayerSessionCount,omitempty"`
	PlayerLatencies           []struct {
		PlayerId              string   `json:"PlayerId,omitempty"`
		RegionIdentifier      string   `json:"RegionIdentifier,omitempty"`
		LatencyInMilliseconds *float32 `json:"LatencyInMilliseconds,omitempty"`
	} `json:"PlayerLatencies,omitempty"`
	Players []struct {
		PlayerId         string           `json:"PlayerId,omitempty"`
		LatencyInMs      map[string]int32 `json:"LatencyInMs,omitempty"`
		PlayerAttributes map[string]struct {
			S   *string            `json:"S,omitempty"`
			N   *float64           `json:"N,omitempty"`
			SL  []string           `json:"SL,omitempty"`
			SDM map[string]float64 `json:"SDM,omitempty"`
		} `json:"PlayerAttributes,omitempty"`
	} `json:"Players,omitempty"`
	AcceptanceRequired *bool                   `json:"AcceptanceRequired,omitempty"`
	Count              *int64                  `json:"Count,omitempty"`
	Location           *gamelift.LocationModel `json:"Location,omitempty"`
}

func fuzzTypes() map[string]reflect.Type {
	types := make(map[string]reflect.Type)
	collectTypes(reflect.TypeFor[fuzzInput](), types)
	return types
}

// checkDecoded holds for any input: decoding fails only with an Invalid
// fault, and whatever decodes can be encoded again.
func checkDecoded(t *testing.T, c codec, err error, in *fuzzInput) {
	if err != nil {
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != fault.Invalid || fe.Error() == "" {
			t.Fatalf("decode error %T %v is not an Invalid fault", err, err)
		}
		return
	}
	if _, err := c.encode(in); err != nil && c.name == "cbor" {
		t.Fatalf("decoded input does not encode: %v", err)
	}
}

func FuzzDecodeCBOR(f *testing.F) {
	c, err := newCBORCodec()
	if err != nil {
		f.Fatal(err)
	}
	types := fuzzTypes()
	f.Add([]byte{0xa0})
	f.Add([]byte{0xbf, 0x65, 'L', 'i', 'm', 'i', 't', 0x05, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		var in fuzzInput
		checkDecoded(t, c, c.decode(body, &in, types), &in)
	})
}

func FuzzDecodeJSON(f *testing.F) {
	c := newJSONCodec()
	types := fuzzTypes()
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"Limit":null,"Tags":[{"Key":"k","Value":""}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in fuzzInput
		checkDecoded(t, c, c.decode(body, &in, types), &in)
	})
}
