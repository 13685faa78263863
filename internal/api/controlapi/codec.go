package controlapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/fxamacker/cbor/v2"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
)

// Media types of the two protocols.
const (
	contentTypeCBOR = "application/cbor"
	contentTypeJSON = "application/x-amz-json-1.1"
)

// Limits on hostile CBOR input. GameLift lists hold at most a few hundred
// items and nest a handful of levels deep.
const (
	maxNestedLevels  = 32
	maxArrayElements = 4096
	maxMapPairs      = 4096
)

// codec is one wire protocol's value encoding.
type codec struct {
	name        string // "cbor" or "json", for logs
	contentType string
	// unknownOpStatus is the status of UnknownOperationException.
	unknownOpStatus int
	decode          func(body []byte, v any, types map[string]reflect.Type) error
	encode          func(v any) ([]byte, error)
}

// newCBORCodec builds the RPC v2 CBOR codec: one EncMode and one DecMode,
// both safe for concurrent use. Decoding rejects duplicate map keys and
// invalid UTF-8 as not well-formed (SerializationException, as JSON 1.1
// does), matches member names exactly, caps nesting and container sizes,
// and refuses byte strings for string members; encoding keeps integers as
// integers and float32 as float32 and never writes null for a nil slice or
// map.
func newCBORCodec() (codec, error) {
	dm, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:   maxNestedLevels,
		MaxArrayElements:  maxArrayElements,
		MaxMapPairs:       maxMapPairs,
		UTF8:              cbor.UTF8RejectInvalid,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
	}.DecMode()
	if err != nil {
		return codec{}, fmt.Errorf("controlapi: cbor decoder: %w", err)
	}
	em, err := cbor.EncOptions{
		ShortestFloat: cbor.ShortestFloatNone,
		NilContainers: cbor.NilContainerAsEmpty,
	}.EncMode()
	if err != nil {
		return codec{}, fmt.Errorf("controlapi: cbor encoder: %w", err)
	}
	return codec{
		name:            "cbor",
		contentType:     contentTypeCBOR,
		unknownOpStatus: 404,
		decode: func(body []byte, v any, types map[string]reflect.Type) error {
			return decodeCBOR(dm, body, v, types)
		},
		encode: em.Marshal,
	}, nil
}

func newJSONCodec() codec {
	return codec{
		name:            "json",
		contentType:     contentTypeJSON,
		unknownOpStatus: 400,
		decode: func(body []byte, v any, _ map[string]reflect.Type) error {
			return decodeJSON(body, v)
		},
		encode: json.Marshal,
	}
}

// decodeCBOR decodes an RPC v2 CBOR request body into v (a pointer to a
// struct). An empty body is an empty input. Every failure is an Invalid
// *fault.Error naming the member when it can.
func decodeCBOR(dm cbor.DecMode, body []byte, v any, types map[string]reflect.Type) error {
	if len(body) == 0 {
		return nil
	}
	err := dm.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var te *cbor.UnmarshalTypeError
	var dup *cbor.DupMapKeyError
	switch {
	case errors.As(err, &te) && te.StructFieldName == "":
		return invalid("", "the request body must be a CBOR map")
	case errors.As(err, &te):
		// StructFieldName is "<pkg.Type>.<Member>" of the outermost member;
		// GoType is the innermost Go type that did not fit.
		member := te.StructFieldName[strings.LastIndexByte(te.StructFieldName, '.')+1:]
		if t, ok := types[te.GoType]; ok && isInteger(t) && strings.HasSuffix(te.CBORType, "integer") {
			return invalid(member, "integer out of range for "+te.GoType)
		}
		return invalid(member, "expected "+describe(types[te.GoType], te.GoType))
	case errors.As(err, &dup):
		if k, ok := dup.Key.(string); ok {
			return notWellFormed(fmt.Sprintf("duplicate map key %q", k))
		}
		return notWellFormed(fmt.Sprintf("duplicate map key %v", dup.Key))
	case strings.Contains(err.Error(), "invalid UTF-8"):
		return notWellFormed("invalid request body: " + strings.TrimPrefix(err.Error(), "cbor: "))
	}
	return invalid("", "invalid request body: "+strings.TrimPrefix(err.Error(), "cbor: "))
}

// decodeJSON decodes an AWS JSON 1.1 request body into v (a pointer to a
// struct) with the player API's strict decoder: an empty body is an empty
// input, null members are absent, and a member whose name matches none
// exactly (another letter case included) is ignored, as GameLift's JSON
// protocol ignores unknown members. Invalid UTF-8 and repeated keys are
// refused as not well-formed (SerializationException), wrong types naming
// the member. The whole body is the "request body" in messages.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	err := httpx.DecodeAWSJSON(body, v)
	var fe *fault.Error
	if errors.As(err, &fe) {
		for i, f := range fe.Fields {
			if f.Field == "$" {
				fe.Fields[i].Field = "request body"
			}
		}
	}
	return err
}

// notWellFormed is a body no reader should take as it is (a repeated key,
// invalid UTF-8): SerializationException, as for JSON 1.1.
func notWellFormed(reason string) error {
	return &fault.Error{Kind: fault.Invalid, Message: reason, Err: httpx.ErrNotWellFormed}
}

func invalid(member, reason string) error {
	if member == "" {
		return &fault.Error{Kind: fault.Invalid, Message: reason}
	}
	return &fault.Error{Kind: fault.Invalid, Fields: []fault.FieldError{{Field: member, Reason: reason}}}
}

var timestampType = reflect.TypeFor[gamelift.Timestamp]()

// smithyKindNames name the wire kinds as GameLift's Smithy model does.
var smithyKindNames = [...]string{httpx.KindString: "string", httpx.KindBool: "boolean", httpx.KindInteger: "integer", httpx.KindNumber: "number",
	httpx.KindList: "list", httpx.KindMap: "map", httpx.KindStruct: "structure"}

// describe names the Smithy type a Go type stands for; name is the fallback
// when t is unknown.
func describe(t reflect.Type, name string) string {
	if t == nil {
		return strings.TrimLeft(name, "*")
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timestampType {
		return "timestamp"
	}
	if k := httpx.KindOf(t); k != httpx.KindOther {
		return smithyKindNames[k]
	}
	return t.String()
}

func isInteger(t reflect.Type) bool {
	return t != nil && describe(t, "") == "integer"
}
