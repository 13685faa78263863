package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/musterhq/muster/internal/fault"
)

// MaxDepth bounds how deeply a request body may nest.
const MaxDepth = 32

// MaxBody is the body limit of a /v1 route that sets none (Body.Limit), and
// the most RequireOperator reads to check a signature.
const MaxBody = 1 << 20

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// Body says how a route reads its JSON request body.
type Body struct {
	// Limit caps the body in bytes; 0 is MaxBody. A larger body is answered
	// 413 by WriteError.
	Limit int64
	// Optional accepts an empty body, leaving v as it is.
	Optional bool
}

// DecodeJSON reads r's body, which is required and at most MaxBody bytes,
// into v with Decode.
func DecodeJSON(r *http.Request, v any) error { return Body{}.Decode(nil, r, v) }

// Decode reads r's body (at most b.Limit bytes) and decodes it into v with
// Decode. A body over the limit is a *TooLargeError (413), a non-empty body
// without a JSON Content-Type ErrMediaType (415). w, when not nil, is told
// to close the connection after a body over the limit.
func (b Body) Decode(w http.ResponseWriter, r *http.Request, v any) error {
	limit := b.Limit
	if limit <= 0 {
		limit = MaxBody
	}
	data, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	if len(data) == 0 && b.Optional {
		return nil
	}
	if len(data) > 0 && !isJSON(r.Header.Get("Content-Type")) {
		return ErrMediaType
	}
	return Decode(data, v)
}

// Read is Decode for a handler: on failure it answers the error
// (WriteError) and returns false.
func (b Body) Read(w http.ResponseWriter, r *http.Request, log *slog.Logger, v any) bool {
	if err := b.Decode(w, r, v); err != nil {
		WriteError(w, r, log, err)
		return false
	}
	return true
}

// Decode strictly decodes one JSON value from data into v (a pointer). It
// refuses, each with a fault.Invalid naming the JSON path ($.a.b[2]):
// malformed JSON, invalid UTF-8, nesting deeper than MaxDepth, trailing
// data, duplicate keys, keys that match no field exactly (case matters),
// values of the wrong JSON type (null included, except for pointers, maps,
// slices and raw JSON), numbers that do not fit the field, and missing
// fields tagged `muster:"required"`. Fields of type json.RawMessage, and
// of types that decode themselves (json.Unmarshaler), take any JSON value
// of bounded depth without repeated keys. Invalid UTF-8 and repeated keys
// also carry ErrNotWellFormed.
func Decode(data []byte, v any) error { return decode(data, v, false) }

// DecodeAWSJSON is Decode as the AWS JSON 1.1 protocol reads a body: a
// key that matches no field exactly is an unknown member and ignored (its
// value still bounded in depth and free of repeated keys), never matched to
// a field in another letter case as encoding/json alone would do; and null
// is an absent member, whatever the field's type. Everything else is as
// strict as Decode.
func DecodeAWSJSON(data []byte, v any) error { return decode(data, v, true) }

// ErrNotWellFormed is in the chain (errors.Is) of a decoding error for a
// body that no JSON reader should accept as it is: invalid UTF-8, or a key
// repeated in one object (which readers resolve differently).
var ErrNotWellFormed = errors.New("the body is not well-formed JSON")

func decode(data []byte, v any, aws bool) error {
	if !utf8.Valid(data) {
		return notWellFormed("$", "must be UTF-8")
	}
	if loneSurrogate(data) {
		return notWellFormed("$", "must be UTF-8: a \\u escape names half of a UTF-16 surrogate pair")
	}
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return errors.New("httpx: Decode needs a pointer")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := walker{dec: dec, aws: aws}
	tok, err := w.token("$")
	if err == io.EOF {
		return invalid("$", "a JSON value is required")
	}
	if err != nil {
		return err
	}
	if err := w.value(tok, t.Elem(), "$", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("$", "must hold exactly one JSON value")
	}
	if err := json.Unmarshal(w.withoutUnknown(data), v); err != nil {
		// The walk accepted what Unmarshal refuses: report it plainly.
		return invalid("$", "cannot be decoded: %v", err)
	}
	return nil
}

// loneSurrogate reports whether data escapes half a UTF-16 surrogate pair
// (\ud800 without its \udc00): encoding/json would store it as U+FFFD,
// silently changing the text. Backslashes only appear inside strings in
// JSON, so no string tracking is needed; malformed escapes are left to the
// parser.
func loneSurrogate(data []byte) bool {
	hex := func(i int) (rune, bool) {
		if i+6 > len(data) || data[i] != '\\' || data[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(data[i+2:i+6]), 16, 16)
		return rune(n), err == nil
	}
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		r, ok := hex(i)
		switch {
		case !ok:
			i++ // a two-character escape such as \\ or \"
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			low, ok := hex(i + 6)
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return true
			}
			i += 11
		default:
			i += 5
		}
	}
	return false
}

// readBody reads r's body, refusing one over limit bytes with a
// *TooLargeError.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return nil, &TooLargeError{Limit: mb.Limit}
	}
	if err != nil {
		return nil, invalid("$", "the body could not be read")
	}
	return data, nil
}

func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// TooLargeError is a request body over its route's limit.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the body is larger than %d bytes", e.Limit)
}

// ErrMediaType is a request body that is not JSON.
var ErrMediaType = errors.New("the body must be JSON (Content-Type: application/json)")

func invalid(path, reason string, args ...any) error {
	return fault.BadField(path, reason, args...)
}

func notWellFormed(path, reason string, args ...any) error {
	e := fault.BadField(path, reason, args...)
	e.Err = ErrNotWellFormed
	return e
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

type walker struct {
	dec *json.Decoder
	// aws reads AWS JSON 1.1: unknown members ignored, null absent.
	aws bool
	// keyStart and keyEnd frame the key last read by members: from the end
	// of the previous member or the '{' (blanks and comma included) to the
	// key's closing quote.
	keyStart, keyEnd int64
	// unknown are the byte spans of the unknown keys skipped (from
	// keyStart to the key's closing quote).
	unknown [][2]int64
}

// withoutUnknown returns data with every skipped unknown key renamed to
// "", which names no field, so encoding/json cannot match it to a field in
// another letter case.
func (w *walker) withoutUnknown(data []byte) []byte {
	if len(w.unknown) == 0 {
		return data
	}
	out := make([]byte, 0, len(data))
	last := int64(0)
	for _, span := range w.unknown {
		quote := span[0] + int64(bytes.IndexByte(data[span[0]:span[1]], '"'))
		out = append(out, data[last:quote]...)
		out = append(out, `""`...)
		last = span[1]
	}
	return append(out, data[last:]...)
}

func (w *walker) token(path string) (json.Token, error) {
	tok, err := w.dec.Token()
	if err == io.EOF {
		return nil, err
	}
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, invalid(path, "malformed JSON at byte %d", se.Offset)
		}
		return nil, invalid(path, "malformed JSON")
	}
	return tok, nil
}

func (w *walker) next(path string) (json.Token, error) {
	tok, err := w.token(path)
	if err == io.EOF {
		return nil, invalid(path, "the JSON ends too early")
	}
	return tok, err
}

func jsonTypeOf(tok json.Token) string {
	switch tok := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case json.Delim:
		if tok == '{' {
			return "an object"
		}
		return "an array"
	}
	return "a JSON value"
}

// Kind is the kind of value a Go type stands for on the wire; each API
// names kinds in its own convention (wantName here, GameLift's Smithy
// names in controlapi).
type Kind int

// The kinds of wire values; KindOther is any type none of them fits.
const (
	KindOther Kind = iota
	KindString
	KindBool
	KindInteger
	KindNumber
	KindList
	KindMap
	KindStruct
)

// KindOf is the wire kind of t (a pointer is KindOther: callers look
// through pointers first where they stand for optional values).
func KindOf(t reflect.Type) Kind {
	switch t.Kind() {
	case reflect.String:
		return KindString
	case reflect.Bool:
		return KindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return KindInteger
	case reflect.Float32, reflect.Float64:
		return KindNumber
	case reflect.Slice, reflect.Array:
		return KindList
	case reflect.Map:
		return KindMap
	case reflect.Struct:
		return KindStruct
	}
	return KindOther
}

// jsonKindNames name the kinds in the player API's problem documents.
var jsonKindNames = [...]string{KindString: "a string", KindBool: "a boolean", KindInteger: "an integer", KindNumber: "a number",
	KindList: "an array", KindMap: "an object", KindStruct: "an object"}

func wantName(t reflect.Type) string {
	if k := KindOf(t); k != KindOther {
		return jsonKindNames[k]
	}
	return t.String()
}

func (w *walker) value(tok json.Token, t reflect.Type, path string, depth int) error {
	if depth > MaxDepth {
		return invalid(path, "nests deeper than %d levels", MaxDepth)
	}
	if t == rawMessageType || t.Kind() == reflect.Interface || t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return w.skip(tok, path, depth)
	}
	nullable := false
	for t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	nullable = nullable || w.aws || t.Kind() == reflect.Map || t.Kind() == reflect.Slice
	mismatch := func() error {
		return invalid(path, "must be %s, not %s", wantName(t), jsonTypeOf(tok))
	}
	switch tok := tok.(type) {
	case nil:
		if !nullable {
			return mismatch()
		}
		return nil
	case bool:
		if t.Kind() != reflect.Bool {
			return mismatch()
		}
	case string:
		// A []byte is a base64 string in JSON, as encoding/json reads it.
		if t.Kind() != reflect.String && !(t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8) {
			return mismatch()
		}
	case json.Number:
		return checkNumber(tok, t, path, mismatch)
	case json.Delim:
		switch {
		case tok == '{' && t.Kind() == reflect.Struct:
			return w.object(t, path, depth)
		case tok == '{' && t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
			return w.mapObject(t, path, depth)
		case tok == '[' && t.Kind() == reflect.Slice:
			return w.array(t, path, depth)
		}
		return mismatch()
	}
	return nil
}

func checkNumber(n json.Number, t reflect.Type, path string, mismatch func() error) error {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(string(n), t.Bits())
		if err != nil || math.IsInf(f, 0) {
			return invalid(path, "must be a number within range")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			return invalid(path, "must be an integer within range")
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			return invalid(path, "must be a non-negative integer within range")
		}
	default:
		return mismatch()
	}
	return nil
}

func (w *walker) object(t reflect.Type, path string, depth int) error {
	fields := fieldsOf(t)
	seen, err := w.members(path, func(key, at string, tok json.Token) error {
		f, ok := fields.byName[key]
		if !ok && w.aws {
			w.unknown = append(w.unknown, [2]int64{w.keyStart, w.keyEnd})
			return w.skip(tok, at, depth+1)
		}
		if !ok {
			return invalid(at, "is not a known field")
		}
		return w.value(tok, f.Type, at, depth+1)
	})
	if err != nil {
		return err
	}
	for _, name := range fields.required {
		if !seen[name] {
			return invalid(member(path, name), "is required")
		}
	}
	return nil
}

func (w *walker) mapObject(t reflect.Type, path string, depth int) error {
	_, err := w.members(path, func(_, at string, tok json.Token) error {
		return w.value(tok, t.Elem(), at, depth+1)
	})
	return err
}

func (w *walker) array(t reflect.Type, path string, depth int) error {
	return w.items(path, func(at string, tok json.Token) error {
		return w.value(tok, t.Elem(), at, depth+1)
	})
}

// skip consumes a value of any shape (raw JSON), still bounding its depth
// and refusing duplicate keys.
func (w *walker) skip(tok json.Token, path string, depth int) error {
	if depth > MaxDepth {
		return invalid(path, "nests deeper than %d levels", MaxDepth)
	}
	switch tok {
	case json.Delim('{'):
		_, err := w.members(path, func(_, at string, tok json.Token) error { return w.skip(tok, at, depth+1) })
		return err
	case json.Delim('['):
		return w.items(path, func(at string, tok json.Token) error { return w.skip(tok, at, depth+1) })
	}
	return nil
}

// members reads the members of the object at path, whose '{' has been
// read, through its '}': each key once (a repeated key is refused), then
// visit with the member's path and the first token of its value. It
// returns the keys it saw.
func (w *walker) members(path string, visit func(key, at string, tok json.Token) error) (map[string]bool, error) {
	seen := map[string]bool{}
	for w.dec.More() {
		w.keyStart = w.dec.InputOffset()
		tok, err := w.next(path)
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, invalid(path, "malformed JSON")
		}
		w.keyEnd = w.dec.InputOffset()
		at := member(path, key)
		if seen[key] {
			return nil, notWellFormed(at, "appears twice")
		}
		seen[key] = true
		if tok, err = w.next(at); err != nil {
			return nil, err
		}
		if err := visit(key, at, tok); err != nil {
			return nil, err
		}
	}
	_, err := w.next(path)
	return seen, err
}

// items reads the items of the array at path, whose '[' has been read,
// through its ']', calling visit with each item's path and first token.
func (w *walker) items(path string, visit func(at string, tok json.Token) error) error {
	for i := 0; w.dec.More(); i++ {
		at := fmt.Sprintf("%s[%d]", path, i)
		tok, err := w.next(at)
		if err != nil {
			return err
		}
		if err := visit(at, tok); err != nil {
			return err
		}
	}
	_, err := w.next(path)
	return err
}

type structFields struct {
	byName   map[string]reflect.StructField
	required []string
}

var fieldCache sync.Map // reflect.Type → *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{byName: map[string]reflect.StructField{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f.byName[name] = sf
		if sf.Tag.Get("muster") == "required" {
			f.required = append(f.required, name)
		}
	}
	fieldCache.Store(t, f)
	return f
}

// member is the JSON path of key k under path: $.data.level, or
// $.data["two words"].
func member(path, k string) string {
	plain := k != ""
	for i, c := range k {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return path + "." + k
	}
	return path + "[" + strconv.Quote(k) + "]"
}
