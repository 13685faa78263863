package gamelift_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
	fxcbor "github.com/fxamacker/cbor/v2"

	"github.com/musterhq/muster/internal/gamelift"
)

func TestTimestampJSON(t *testing.T) {
	tests := []struct {
		name string
		ms   int64
		want string
	}{
		{"a time with milliseconds keeps three decimals", 1469498468057, "1469498468.057"},
		{"a whole second is a whole number", 1469498468000, "1469498468"},
		{"trailing zeros of the fraction are dropped", 1469498468500, "1469498468.5"},
		{"a leading zero in the fraction is kept", 1469498468007, "1469498468.007"},
		{"a time before the epoch is negative", -1500, "-1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(gamelift.UnixMilli(tt.ms))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got %s, want %s", b, tt.want)
			}
			var back gamelift.Timestamp
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back.UnixMilli() != tt.ms {
				t.Fatalf("round trip gave %d, want %d", back.UnixMilli(), tt.ms)
			}
		})
	}
}

func TestTimestampJSONRejectsStrings(t *testing.T) {
	var ts gamelift.Timestamp
	if err := json.Unmarshal([]byte(`"2016-07-26T02:01:08Z"`), &ts); err == nil {
		t.Fatal("an RFC 3339 string was accepted")
	}
}

// The SDK truncates seconds*1000; every millisecond must survive that.
func TestTimestampCBORRoundTripsThroughTheSDKDecoder(t *testing.T) {
	base := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC).UnixMilli()
	for ms := base; ms < base+2000; ms++ {
		b, err := fxcbor.Marshal(gamelift.UnixMilli(ms))
		if err != nil {
			t.Fatal(err)
		}
		v, err := cbor.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		tag, ok := v.(*cbor.Tag)
		if !ok || tag.ID != 1 {
			t.Fatalf("%d: got %#v, want tag 1", ms, v)
		}
		if _, ok := tag.Value.(cbor.Float64); !ok {
			t.Fatalf("%d: tag content is %T, want Float64", ms, tag.Value)
		}
		got, err := cbor.AsTime(v)
		if err != nil {
			t.Fatal(err)
		}
		if got.UnixMilli() != ms {
			t.Fatalf("SDK decoded %d as %d", ms, got.UnixMilli())
		}
	}
}

func TestTimestampCBORDecodesWhatClientsSend(t *testing.T) {
	const ms = 1469498468057
	tests := []struct {
		name  string
		value cbor.Value
		want  int64
	}{
		{"tag 1 around a float64 as the Go SDK sends", &cbor.Tag{ID: 1, Value: cbor.Float64(float64(ms) / 1000)}, ms},
		{"tag 1 around a float32", &cbor.Tag{ID: 1, Value: cbor.Float32(1024.5)}, 1024500},
		{"tag 1 around an integer", &cbor.Tag{ID: 1, Value: cbor.Uint(1469498468)}, 1469498468000},
		{"tag 1 around a negative integer", &cbor.Tag{ID: 1, Value: cbor.NegInt(2)}, -2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ts gamelift.Timestamp
			if err := fxcbor.Unmarshal(cbor.Encode(tt.value), &ts); err != nil {
				t.Fatal(err)
			}
			if ts.UnixMilli() != tt.want {
				t.Fatalf("got %d, want %d", ts.UnixMilli(), tt.want)
			}
		})
	}
}

func TestTimestampCBORRejectsOtherEncodings(t *testing.T) {
	tests := []struct {
		name  string
		value cbor.Value
	}{
		{"an untagged float", cbor.Float64(1.5)},
		{"tag 0 around an RFC 3339 string", &cbor.Tag{ID: 0, Value: cbor.String("2016-07-26T02:01:08Z")}},
		{"tag 1 around a string", &cbor.Tag{ID: 1, Value: cbor.String("1")}},
		{"tag 1 around an infinite float", &cbor.Tag{ID: 1, Value: cbor.Float64(1e300)}},
		{"a plain string", cbor.String("now")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ts gamelift.Timestamp
			if err := fxcbor.Unmarshal(cbor.Encode(tt.value), &ts); err == nil {
				t.Fatalf("accepted, got %v", ts)
			}
		})
	}
}

func TestTimestampsAreOmittedWhenUnset(t *testing.T) {
	type shape struct {
		CreationTime *gamelift.Timestamp `json:"CreationTime,omitempty"`
	}
	b, err := fxcbor.Marshal(shape{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 1 || b[0] != 0xa0 {
		t.Fatalf("got % x, want an empty map", b)
	}
	var s shape
	if err := fxcbor.Unmarshal(cbor.Encode(cbor.Map{"CreationTime": &cbor.Nil{}}), &s); err != nil || s.CreationTime != nil {
		t.Fatalf("null gave %v, %v; want absent", s.CreationTime, err)
	}
}
