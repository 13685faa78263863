package controlapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/musterhq/muster/internal/sigv4/sigv4test"
)

// Byte-level RPC v2 CBOR tests, with smithy-go's encoder (the one the SDK
// uses) as the reference for what goes on the wire.

func cborHeaders() map[string]string {
	return map[string]string{"Content-Type": "application/cbor", "Accept": "application/cbor", "Smithy-Protocol": "rpc-v2-cbor"}
}

// text encodes a CBOR text string header and bytes.
func text(s string) []byte { return cbor.Encode(cbor.String(s)) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func nested(depth int) []byte {
	var b []byte
	b = append(b, 0xa1)
	b = append(b, text("Filters")...)
	for range depth {
		b = append(b, 0x81)
	}
	return append(b, text("AWS")...)
}

func TestCBORWire(t *testing.T) {
	e := newEnv(t, 0)
	tests := []struct {
		name       string
		op         string
		body       []byte
		header     map[string]string
		wantStatus int
		wantType   string
		wantMsg    string
	}{
		{"an empty body is an empty input", "ListLocations", nil, map[string]string{"Smithy-Protocol": "rpc-v2-cbor"}, 200, "", ""},
		{"an empty map is an empty input", "ListLocations", cbor.Encode(cbor.Map{}), nil, 200, "", ""},
		{"null members are absent", "ListLocations", cbor.Encode(cbor.Map{"Limit": &cbor.Nil{}, "NextToken": &cbor.Nil{}}), nil, 200, "", ""},
		{"unknown members are ignored", "ListLocations", cbor.Encode(cbor.Map{"Shiny": cbor.List{cbor.Uint(1)}}), nil, 200, "", ""},
		{"an indefinite-length map is accepted", "ListLocations", cat([]byte{0xbf}, text("Limit"), []byte{0x05, 0xff}), nil, 200, "", ""},
		{"a number where a string belongs names the member", "CreateLocation", cbor.Encode(cbor.Map{"LocationName": cbor.Uint(5)}), nil,
			400, "InvalidRequestException", "LocationName: expected string"},
		{"a byte string is not a string", "CreateLocation", cbor.Encode(cbor.Map{"LocationName": cbor.Slice("custom-bytes")}), nil,
			400, "InvalidRequestException", "LocationName: expected string"},
		{"a wrong type inside a list names the top-level member", "CreateLocation", cbor.Encode(cbor.Map{"LocationName": cbor.String("custom-x"), "Tags": cbor.List{cbor.Map{"Key": cbor.Uint(1)}}}), nil,
			400, "InvalidRequestException", "Tags: expected string"},
		{"a float where an integer belongs is refused", "ListLocations", cbor.Encode(cbor.Map{"Limit": cbor.Float64(1.5)}), nil,
			400, "InvalidRequestException", "Limit: expected integer"},
		{"an integer beyond int32 is out of range", "ListLocations", cbor.Encode(cbor.Map{"Limit": cbor.Uint(1 << 40)}), nil,
			400, "InvalidRequestException", "Limit: integer out of range for int32"},
		{"a string where a list belongs names the member", "ListLocations", cbor.Encode(cbor.Map{"Filters": cbor.String("AWS")}), nil,
			400, "InvalidRequestException", "Filters: expected list"},
		{"a timestamp must be tag 1", "DescribeFleetEvents", cbor.Encode(cbor.Map{"StartTime": cbor.String("2016-07-26T02:01:08Z")}), nil,
			400, "InvalidRequestException", "invalid request body: expected a timestamp (CBOR tag 1)"},
		{"a tagged timestamp around a string is refused", "DescribeFleetEvents", cbor.Encode(cbor.Map{"StartTime": &cbor.Tag{ID: 1, Value: cbor.String("1")}}), nil,
			400, "InvalidRequestException", "invalid request body: tag number 1 must be followed by integer or floating-point number, got UTF-8 text string"},
		{"truncated input is refused", "ListLocations", []byte{0xa1, 0x65, 'L', 'i'}, nil,
			400, "InvalidRequestException", "invalid request body: unexpected EOF"},
		{"duplicate map keys are refused", "ListLocations", cat([]byte{0xa2}, text("Limit"), []byte{0x01}, text("Limit"), []byte{0x02}), nil,
			400, "SerializationException", `duplicate map key "Limit"`},
		{"invalid UTF-8 is refused", "CreateLocation", cat([]byte{0xa1}, text("LocationName"), []byte{0x62, 0xff, 0xfe}), nil,
			400, "SerializationException", "invalid request body: invalid UTF-8 string"},
		{"a body that is not a map is refused", "ListLocations", cbor.Encode(cbor.List{cbor.Uint(1)}), nil,
			400, "InvalidRequestException", "the request body must be a CBOR map"},
		{"trailing bytes are refused", "ListLocations", cat(cbor.Encode(cbor.Map{}), []byte{0x01}), nil,
			400, "InvalidRequestException", ""},
		{"truncated CBOR is refused", "CreateLocation", cbor.Encode(cbor.Map{"LocationName": cbor.String("custom-x")})[:5], nil,
			400, "InvalidRequestException", ""},
		{"nesting deeper than the limit is refused", "ListLocations", nested(40), nil,
			400, "InvalidRequestException", ""},
		{"an unknown operation is a 404 UnknownOperationException", "LaunchRocket", cbor.Encode(cbor.Map{}), nil,
			404, "UnknownOperationException", `unknown operation "LaunchRocket"`},
		{"a path with two operation segments is a 404 in CBOR", "ListLocations/extra", cbor.Encode(cbor.Map{}), nil,
			404, "UnknownOperationException", "no GameLift operation is served at /service/GameLift/operation/ListLocations/extra"},
		{"a JSON body on the CBOR route is refused with 415", "ListLocations", []byte(`{}`), map[string]string{"Content-Type": "application/json"},
			415, "UnsupportedMediaTypeException", "Content-Type must be application/cbor"},
		{"a body over the limit is refused with 413", "CreateLocation", cbor.Encode(cbor.Map{"LocationName": cbor.String(strings.Repeat("x", 3<<20))}), nil,
			413, "RequestEntityTooLargeException", "the request body exceeds 2097152 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := cborHeaders()
			for k, v := range tt.header {
				h[k] = v
			}
			resp, body := do(t, e.request(t, "/service/GameLift/operation/"+tt.op, h, tt.body, adminKey, adminSecret))
			checkCBORResponse(t, resp, body, tt.wantStatus, tt.wantType, tt.wantMsg)
		})
	}
}

// checkCBORResponse checks the envelope of an RPC v2 CBOR response and, for
// errors, its type and message.
func checkCBORResponse(t *testing.T, resp *http.Response, body []byte, wantStatus int, wantType, wantMsg string) {
	t.Helper()
	if resp.StatusCode != wantStatus {
		t.Fatalf("status %d, want %d; body % x", resp.StatusCode, wantStatus, body)
	}
	if resp.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || resp.Header.Get("Content-Type") != "application/cbor" {
		t.Fatalf("headers %v", resp.Header)
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" || resp.Header.Get("Date") == "" {
		t.Fatalf("no request id or date: %v", resp.Header)
	}
	v, err := cbor.Decode(body)
	if err != nil {
		t.Fatalf("body % x: %v", body, err)
	}
	m, ok := v.(cbor.Map)
	if !ok {
		t.Fatalf("body is %T", v)
	}
	if wantType == "" {
		return
	}
	typ, _ := m["__type"].(cbor.String)
	msg, _ := m["message"].(cbor.String)
	msgUpper, _ := m["Message"].(cbor.String)
	if string(typ) != wantType {
		t.Fatalf("__type %q, want %q (message %q)", typ, wantType, msg)
	}
	if msg == "" || msg != msgUpper {
		t.Fatalf("message %q, Message %q", msg, msgUpper)
	}
	if wantMsg != "" && string(msg) != wantMsg {
		t.Fatalf("message %q, want %q", msg, wantMsg)
	}
}

func TestCBOREncodesIntegersAsIntegers(t *testing.T) {
	e := newEnv(t, 0)
	h := cborHeaders()
	if resp, body := do(t, e.request(t, "/service/GameLift/operation/CreateLocation", h, cbor.Encode(cbor.Map{"LocationName": cbor.String("custom-int")}), adminKey, adminSecret)); resp.StatusCode != 200 {
		t.Fatalf("create: %d % x", resp.StatusCode, body)
	}
	_, body := do(t, e.request(t, "/service/GameLift/operation/ListLocations", h, cbor.Encode(cbor.Map{}), adminKey, adminSecret))
	v, err := cbor.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	want := cbor.Map{"Locations": cbor.List{cbor.Map{
		"LocationName": cbor.String("custom-int"),
		"LocationArn":  cbor.String("arn:aws:gamelift:eu-west-1:123456789012:location/custom-int"),
		"PingBeacon":   cbor.Map{"UDPEndpoint": cbor.Map{"Domain": cbor.String("beacon.muster.test"), "Port": cbor.Uint(7770)}},
	}}}
	// Compare through the canonical encoding of the reference encoder, which
	// sorts nothing but encodes each value the one way the SDK expects.
	if !sameValue(v, want) {
		t.Fatalf("got %#v\nwant %#v", v, want)
	}
}

// sameValue compares smithy CBOR values structurally.
func sameValue(a, b cbor.Value) bool {
	switch av := a.(type) {
	case cbor.Map:
		bv, ok := b.(cbor.Map)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			if !sameValue(x, bv[k]) {
				return false
			}
		}
		return true
	case cbor.List:
		bv, ok := b.(cbor.List)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !sameValue(av[i], bv[i]) {
				return false
			}
		}
		return true
	}
	return bytes.Equal(cbor.Encode(a), cbor.Encode(b))
}

func TestCBOREnvelope(t *testing.T) {
	e := newEnv(t, 0)
	tests := []struct {
		name       string
		method     string
		auth       bool
		wantStatus int
		wantType   string
	}{
		{"a GET is refused with 405 in CBOR", http.MethodGet, true, 405, "MethodNotAllowedException"},
		{"an unsigned request is a missing token", http.MethodPost, false, 400, "MissingAuthenticationTokenException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := cbor.Encode(cbor.Map{})
			r, err := http.NewRequest(tt.method, e.srv.URL+"/service/GameLift/operation/ListLocations", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", "application/cbor")
			if tt.auth {
				sigv4test.Sign(t, r, body, adminKey, adminSecret, region, e.clock.Now())
			}
			resp, rb := do(t, r)
			checkCBORResponse(t, resp, rb, tt.wantStatus, tt.wantType, "")
			if tt.wantStatus == 405 && resp.Header.Get("Allow") != "POST" {
				t.Fatalf("Allow %q", resp.Header.Get("Allow"))
			}
		})
	}
}

func TestMetricsLabelUnknownOperationsAsUnknown(t *testing.T) {
	e := newEnv(t, 0)
	for _, op := range []string{"LaunchRocket", "Launch-Missile-2"} {
		do(t, e.request(t, "/service/GameLift/operation/"+op, cborHeaders(), cbor.Encode(cbor.Map{}), adminKey, adminSecret))
	}
	do(t, e.request(t, "/service/GameLift/operation/DeleteLocation", cborHeaders(), cbor.Encode(cbor.Map{"LocationName": cbor.String("custom-zz")}), adminKey, adminSecret))
	if got := e.counter(t, "unknown", "UnknownOperationException"); got != 2 {
		t.Fatalf("unknown operations counted %v times, want 2", got)
	}
	if got := e.counter(t, "DeleteLocation", "NotFoundException"); got != 1 {
		t.Fatalf("DeleteLocation NotFound counted %v times, want 1", got)
	}
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "muster_controlapi_request_duration_seconds" {
			for _, m := range mf.GetMetric() {
				if op := label(m, "operation"); op != "unknown" && op != "DeleteLocation" {
					t.Fatalf("histogram has operation label %q", op)
				}
			}
			return
		}
	}
	t.Fatal("no duration histogram")
}
