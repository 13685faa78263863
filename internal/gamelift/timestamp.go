package gamelift

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Timestamp is a GameLift timestamp member: an instant with millisecond
// precision.
//
// On the wire it is epoch seconds with a millisecond fraction: in JSON 1.1 a
// number (1469498468.057), in RPC v2 CBOR tag 1 around a float64. It decodes
// from a JSON number, or from CBOR tag 1 around a float32, float64 or
// integer, the same inputs the AWS SDKs accept. Use *Timestamp for members
// (they are all optional) so unset ones are omitted.
type Timestamp struct {
	ms int64 // Unix milliseconds
}

// At returns a timestamp for t, truncated to the millisecond.
func At(t time.Time) *Timestamp { return &Timestamp{ms: t.UnixMilli()} }

// UnixMilli returns a timestamp for ms milliseconds since the Unix epoch;
// stores keep times in this form.
func UnixMilli(ms int64) *Timestamp { return &Timestamp{ms: ms} }

// Time returns the instant in UTC.
func (t Timestamp) Time() time.Time { return time.UnixMilli(t.ms).UTC() }

// UnixMilli returns the instant as milliseconds since the Unix epoch.
func (t Timestamp) UnixMilli() int64 { return t.ms }

// String formats the instant as RFC 3339 with milliseconds, for logs.
func (t Timestamp) String() string { return t.Time().Format("2006-01-02T15:04:05.000Z07:00") }

// maxSeconds bounds decoded values so milliseconds fit int64 and time.Time.
const maxSeconds = 1 << 40

// MarshalJSON writes epoch seconds with a millisecond fraction, e.g.
// 1469498468.057, or a whole number when the fraction is zero.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := t.ms
	var b []byte
	if ms < 0 {
		b = append(b, '-')
		ms = -ms
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
		b = bytes.TrimRight(b, "0")
	}
	return b, nil
}

// UnmarshalJSON reads a JSON number of epoch seconds; null leaves t
// unchanged.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(data), 64)
	if err != nil {
		return errors.New("expected a timestamp (epoch seconds)")
	}
	return t.setSeconds(f)
}

// MarshalCBOR writes tag 1 around a float64 of epoch seconds. The float is
// chosen so that a client truncating seconds*1000 to an integer, as the Go
// SDK does, gets back exactly the stored millisecond.
func (t Timestamp) MarshalCBOR() ([]byte, error) {
	return cbor.Marshal(cbor.Tag{Number: 1, Content: secondsFor(t.ms)})
}

// UnmarshalCBOR reads tag 1 around a float32, float64 or integer; null
// leaves t unchanged.
func (t *Timestamp) UnmarshalCBOR(data []byte) error {
	if len(data) == 1 && (data[0] == 0xf6 || data[0] == 0xf7) { // null, undefined
		return nil
	}
	var tag cbor.RawTag
	if err := cbor.Unmarshal(data, &tag); err != nil || tag.Number != 1 {
		return errors.New("expected a timestamp (CBOR tag 1)")
	}
	var v any
	if err := cbor.Unmarshal(tag.Content, &v); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	switch n := v.(type) {
	case float64: // float16, float32 and float64 all decode to float64
		return t.setSeconds(n)
	case uint64:
		if n > maxSeconds {
			return errors.New("timestamp out of range")
		}
		t.ms = int64(n) * 1000
		return nil
	case int64:
		if n < -maxSeconds || n > maxSeconds {
			return errors.New("timestamp out of range")
		}
		t.ms = n * 1000
		return nil
	}
	return errors.New("expected a timestamp (CBOR tag 1 around a number)")
}

func (t *Timestamp) setSeconds(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > maxSeconds {
		return errors.New("timestamp out of range")
	}
	t.ms = int64(math.Round(f * 1000))
	return nil
}

// secondsFor returns the float64 nearest ms/1000 for which int64(f*1e3)
// == ms, so both rounding and truncating decoders recover ms.
func secondsFor(ms int64) float64 {
	f := float64(ms) / 1000
	dir := math.Inf(1)
	if ms < 0 {
		dir = math.Inf(-1)
	}
	for range 4 {
		if int64(f*1e3) == ms {
			return f
		}
		f = math.Nextafter(f, dir)
	}
	return float64(ms) / 1000
}
