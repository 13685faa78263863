package httpx_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
)

// body has the shapes of /v1 request bodies.
type body struct {
	Name       string                              `json:"name" muster:"required"`
	Count      int32                               `json:"count"`
	Ratio      float64                             `json:"ratio"`
	On         *bool                               `json:"on"`
	Tags       []string                            `json:"tags"`
	Attributes map[string]*gamelift.AttributeValue `json:"attributes"`
	Data       map[string]json.RawMessage          `json:"data"`
}

func field(t *testing.T, err error) (string, string) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.Invalid || len(fe.Fields) != 1 {
		t.Fatalf("got %v, want one invalid field", err)
	}
	return fe.Fields[0].Field, fe.Fields[0].Reason
}

func TestDecodeAcceptsWellFormedBodies(t *testing.T) {
	var b body
	in := `{"name":"x","count":3,"ratio":0.5,"on":null,"tags":["a"],"attributes":{"skill":{"N":20},"gone":null},"data":{"k":{"deep":[1,{"a":null}]},"z":null}}`
	if err := httpx.Decode([]byte(in), &b); err != nil {
		t.Fatal(err)
	}
	if b.Name != "x" || b.Count != 3 || *b.Attributes["skill"].N != 20 || b.Attributes["gone"] != nil || string(b.Data["z"]) != "null" {
		t.Fatalf("%+v", b)
	}
}

func TestDecodeNamesTheRefusedPath(t *testing.T) {
	for _, tt := range []struct{ name, in, path, reason string }{
		{"an unknown field", `{"name":"x","nmae":1}`, "$.nmae", "is not a known field"},
		{"a field in the wrong case", `{"Name":"x"}`, "$.Name", "is not a known field"},
		{"a string for an integer", `{"name":"x","count":"3"}`, "$.count", "must be an integer, not a string"},
		{"a fraction for an integer", `{"name":"x","count":1.5}`, "$.count", "must be an integer within range"},
		{"an integer out of range", `{"name":"x","count":3000000000}`, "$.count", "must be an integer within range"},
		{"a huge number", `{"name":"x","ratio":1e999}`, "$.ratio", "must be a number within range"},
		{"null for a string", `{"name":null}`, "$.name", "must be a string, not null"},
		{"an object for a list", `{"name":"x","tags":{}}`, "$.tags", "must be an array, not an object"},
		{"a wrong item type", `{"name":"x","tags":["a",2]}`, "$.tags[1]", "must be a string, not a number"},
		{"an unknown AttributeValue member", `{"name":"x","attributes":{"skill":{"n":1}}}`, "$.attributes.skill.n", "is not a known field"},
		{"an odd map key", `{"name":"x","attributes":{"a b":{"S":1}}}`, `$.attributes["a b"].S`, "must be a string, not a number"},
		{"a duplicate key", `{"name":"x","name":"y"}`, "$.name", "appears twice"},
		{"a duplicate key inside raw data", `{"name":"x","data":{"k":{"a":1,"a":2}}}`, "$.data.k.a", "appears twice"},
		{"a missing required field", `{"count":1}`, "$.name", "is required"},
		{"malformed JSON", `{"name":"x",}`, "$", "malformed JSON"},
		{"trailing data", `{"name":"x"}x`, "$", "must hold exactly one JSON value"},
		{"an empty body", ``, "$", "a JSON value is required"},
		{"a bare string", `"x"`, "$", "must be an object, not a string"},
		{"invalid UTF-8", "{\"name\":\"\xff\"}", "$", "must be UTF-8"},
		{"deep nesting", `{"name":"x","data":{"k":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}}`, "", "nests deeper than"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b body
			path, reason := field(t, httpx.Decode([]byte(tt.in), &b))
			if (tt.path != "" && path != tt.path) || !strings.Contains(reason, tt.reason) {
				t.Fatalf("%s: %s; want %s: %s", path, reason, tt.path, tt.reason)
			}
		})
	}
}

// FuzzDecode feeds arbitrary bytes to the /v1 JSON decoding: it
// must never panic, must refuse with a field path, and whatever it accepts
// encoding/json accepts too, strictly (seeds: testdata/fuzz/FuzzDecode).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"x","attributes":{"skill":{"N":20},"modes":{"SL":["a"]},"m":{"SDM":{"eu":1}}},"data":{"k":[1,"2",{"3":null}]}}`,
		`{"name":"x","count":-1,"ratio":1e-300,"on":true,"tags":[]}`,
		`{"name":"\u00e9\ud83d\ude00"}`,
		`{"name":"x","name":"y"}`,
		`[{"name":1}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b body
		err := httpx.Decode(data, &b)
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.Invalid || len(fe.Fields) == 0 || !strings.HasPrefix(fe.Fields[0].Field, "$") {
				t.Fatalf("Decode(%q) = %v, want an invalid field", data, err)
			}
			return
		}
		var strict body
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&strict); err != nil {
			t.Fatalf("Decode accepted %q, which encoding/json refuses: %v", data, err)
		}
		if _, err := json.Marshal(b); err != nil {
			t.Fatalf("decoded %q into %+v, which does not encode: %v", data, b, err)
		}
	})
}

// Invalid UTF-8 and repeated keys are a body no reader should take as it
// is; the control API answers them apart (SerializationException).
func TestDecodeMarksBodiesThatAreNotWellFormed(t *testing.T) {
	for _, in := range []string{"{\"name\":\"\xff\"}", `{"name":"x","name":"y"}`, `{"name":"x","data":{"k":{"a":1,"a":2}}}`,
		`{"name":"\ud800"}`, `{"name":"a\udc00"}`, `{"name":"\ud83d\u0041"}`, `{"name":"x","data":{"k":"\\\ud800"}}`} {
		var b body
		if err := httpx.Decode([]byte(in), &b); !errors.Is(err, httpx.ErrNotWellFormed) {
			t.Errorf("Decode(%q) = %v, want ErrNotWellFormed", in, err)
		}
		if err := httpx.DecodeAWSJSON([]byte(in), &b); !errors.Is(err, httpx.ErrNotWellFormed) {
			t.Errorf("DecodeAWSJSON(%q) = %v, want ErrNotWellFormed", in, err)
		}
	}
	for _, in := range []string{`{"name":"\ud83d\ude00 \u00e9"}`, `{"name":"\\ud800"}`, `{"name":"\\\\ud800\"\\"}`} {
		var b body
		if err := httpx.Decode([]byte(in), &b); err != nil {
			t.Errorf("Decode(%s) = %v, want a pair or an escaped backslash accepted", in, err)
		}
	}
	var b body
	if err := httpx.Decode([]byte(`{"name":1}`), &b); err == nil || errors.Is(err, httpx.ErrNotWellFormed) {
		t.Errorf("a wrong type is %v, want an error that is not ErrNotWellFormed", err)
	}
}

func TestDecodeAWSJSONSkipsKeysThatMatchNoFieldExactly(t *testing.T) {
	t.Run("unknown keys, in any case, are ignored", func(t *testing.T) {
		var b body
		in := `{ "name" : "x" , "Count":7, "COUNT" :8,"other":{"deep":[1,{"a":null}]},"attributes":{"skill":{"n":5,"N":20}},"tags":["a"]}`
		if err := httpx.DecodeAWSJSON([]byte(in), &b); err != nil {
			t.Fatal(err)
		}
		if b.Name != "x" || b.Count != 0 || *b.Attributes["skill"].N != 20 || len(b.Tags) != 1 {
			t.Fatalf("%+v", b)
		}
	})
	t.Run("null is an absent member, whatever the field's type", func(t *testing.T) {
		b := body{Count: 4}
		if err := httpx.DecodeAWSJSON([]byte(`{"name":"x","count":null,"ratio":null}`), &b); err != nil || b.Count != 4 {
			t.Fatalf("%v %+v", err, b)
		}
		if _, reason := field(t, httpx.Decode([]byte(`{"name":"x","count":null}`), &b)); reason != "must be an integer, not null" {
			t.Fatalf("Decode: %s", reason)
		}
	})
	t.Run("a required field given in another case is missing", func(t *testing.T) {
		var b body
		path, reason := field(t, httpx.DecodeAWSJSON([]byte(`{"Name":"x"}`), &b))
		if path != "$.name" || reason != "is required" {
			t.Fatalf("%s: %s", path, reason)
		}
	})
	t.Run("unknown values are still bounded and free of repeated keys", func(t *testing.T) {
		var b body
		deep := `{"name":"x","zz":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`
		if _, reason := field(t, httpx.DecodeAWSJSON([]byte(deep), &b)); !strings.Contains(reason, "nests deeper") {
			t.Fatal(reason)
		}
		if err := httpx.DecodeAWSJSON([]byte(`{"name":"x","zz":{"a":1,"a":1}}`), &b); !errors.Is(err, httpx.ErrNotWellFormed) {
			t.Fatal(err)
		}
	})
	t.Run("wrong types of known fields are refused", func(t *testing.T) {
		var b body
		if path, _ := field(t, httpx.DecodeAWSJSON([]byte(`{"name":"x","other":1,"count":"3"}`), &b)); path != "$.count" {
			t.Fatal(path)
		}
	})
}

func TestDecodeReadsBytesAsBase64(t *testing.T) {
	var v struct {
		Blob []byte `json:"blob"`
	}
	if err := httpx.DecodeAWSJSON([]byte(`{"blob":"aGVsbG8="}`), &v); err != nil || string(v.Blob) != "hello" {
		t.Fatalf("%v %q", err, v.Blob)
	}
	if err := httpx.DecodeAWSJSON([]byte(`{"blob":"not base64!"}`), &v); err == nil {
		t.Fatal("a string that is not base64 was accepted")
	}
}
