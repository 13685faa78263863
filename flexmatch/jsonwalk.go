package flexmatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"sort"
	"strconv"
	"strings"
)

// decodeBody decodes a rule-set body into generic JSON values, keeping
// numbers exact, and reports syntax errors with line and column.
func decodeBody(body []byte, ps *problems) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		ps.add("$", "%s", syntaxReason(body, err))
		return nil, false
	}
	if dec.More() {
		ps.add("$", "unexpected data after the rule-set object")
		return nil, false
	}
	// Decode stops after the first value; anything but whitespace after it is
	// an error (dec.More does not see every case, such as a stray "}").
	rest := body[dec.InputOffset():]
	if len(bytes.TrimSpace(rest)) > 0 {
		ps.add("$", "unexpected data after the rule-set object")
		return nil, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		ps.add("$", "must be a JSON object")
		return nil, false
	}
	return m, true
}

func syntaxReason(body []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := int(se.Offset)
		if off > len(body) {
			off = len(body)
		}
		line, col := 1, 1
		for _, c := range body[:max(off-1, 0)] {
			if c == '\n' {
				line++
				col = 1
			} else {
				col++
			}
		}
		at := off - 1
		if at >= 0 && at < len(body) && body[at] == '/' {
			return fmt.Sprintf("not valid JSON at line %d, column %d: comments are not allowed", line, col)
		}
		return fmt.Sprintf("not valid JSON at line %d, column %d: %s", line, col, strings.TrimPrefix(se.Error(), "json: "))
	}
	if errors.Is(err, errEOF) || err.Error() == "EOF" || err.Error() == "unexpected EOF" {
		return "not valid JSON: unexpected end of input"
	}
	return "not valid JSON: " + err.Error()
}

var errEOF = errors.New("EOF")

// jpath joins a JSON path and a property name.
func jpath(base, key string) string {
	if !plainKey(key) {
		if base == "" {
			base = "$"
		}
		return base + "[" + strconv.Quote(key) + "]"
	}
	if base == "" || base == "$" {
		return key
	}
	return base + "." + key
}

// plainKey reports whether a property name can be written after a dot.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func jindex(base string, i int) string { return base + "[" + strconv.Itoa(i) + "]" }

// obj reads the properties of one JSON object, reporting problems by path.
type obj struct {
	m    map[string]any
	path string
	ps   *problems
	used map[string]bool
}

func newObj(v any, path string, ps *problems) (*obj, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		ps.add(path, "must be an object, not %s", jsonKind(v))
		return nil, false
	}
	return &obj{m: m, path: path, ps: ps, used: map[string]bool{}}, true
}

// objects yields the elements of list, the array at key, that are objects,
// and reports the others.
func objects(list []any, key string, ps *problems) iter.Seq[*obj] {
	return func(yield func(*obj) bool) {
		for i, v := range list {
			if o, ok := newObj(v, jindex(key, i), ps); ok && !yield(o) {
				return
			}
		}
	}
}

func (o *obj) p(key string) string { return jpath(o.path, key) }

func (o *obj) get(key string) (any, bool) {
	o.used[key] = true
	v, ok := o.m[key]
	return v, ok
}

func (o *obj) has(key string) bool {
	_, ok := o.m[key]
	return ok
}

func (o *obj) str(key string, required bool) (string, bool) {
	v, ok := o.get(key)
	if !ok {
		if required {
			o.ps.add(o.p(key), "is required")
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		o.ps.add(o.p(key), "must be a string, not %s", jsonKind(v))
		return "", false
	}
	return s, true
}

// enum reads a string property that must be one of values.
// name reads the object's required "name": a valid name that taken does
// not report as already used (taken returns "" for a free name, else the
// problem to report).
func (o *obj) name(taken func(name string) string) (string, bool) {
	name, ok := o.str("name", true)
	if !ok {
		return name, false
	}
	why := validName(name)
	if why == "" {
		why = taken(name)
	}
	if why != "" {
		o.ps.add(o.p("name"), "%s", why)
		return name, false
	}
	return name, true
}

// notIn is obj.name's check that a name of a kind is not yet in index.
func notIn[V any](kind string, index map[string]V) func(string) string {
	return func(name string) string {
		if _, dup := index[name]; dup {
			return fmt.Sprintf("duplicate %s name %q", kind, name)
		}
		return ""
	}
}

func (o *obj) enum(key string, required bool, values ...string) (string, bool) {
	s, ok := o.str(key, required)
	if !ok {
		return "", false
	}
	for _, v := range values {
		if s == v {
			return s, true
		}
	}
	o.ps.add(o.p(key), "must be one of %s, not %q%s", quoteList(values), s, suggest(s, values))
	return "", false
}

// num reads a number property; numeric strings are accepted, as in AWS's own examples.
func (o *obj) num(key string, required bool) (float64, bool) {
	v, ok := o.get(key)
	if !ok {
		if required {
			o.ps.add(o.p(key), "is required")
		}
		return 0, false
	}
	return toNumber(v, o.p(key), o.ps)
}

func toNumber(v any, path string, ps *problems) (float64, bool) {
	var f float64
	var err error
	switch x := v.(type) {
	case json.Number:
		f, err = strconv.ParseFloat(string(x), 64)
	case string:
		f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			ps.add(path, "must be a number, not the string %q", clip(x))
			return 0, false
		}
	default:
		ps.add(path, "must be a number, not %s", jsonKind(v))
		return 0, false
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		ps.add(path, "must be a finite number")
		return 0, false
	}
	return f, true
}

// integer reads a whole-number property no smaller than lo.
func (o *obj) integer(key string, required bool, lo int) (int, bool) {
	f, ok := o.num(key, required)
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) || f < float64(lo) || f > 1e6 {
		o.ps.add(o.p(key), "must be a whole number ≥ %d", lo)
		return 0, false
	}
	return int(f), true
}

func (o *obj) arr(key string, required bool) ([]any, bool) {
	v, ok := o.get(key)
	if !ok {
		if required {
			o.ps.add(o.p(key), "is required")
		}
		return nil, false
	}
	a, ok := v.([]any)
	if !ok {
		o.ps.add(o.p(key), "must be an array, not %s", jsonKind(v))
		return nil, false
	}
	return a, true
}

// done reports every property that was not read as unknown.
func (o *obj) done() {
	var unknown []string
	for k := range o.m {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	known := make([]string, 0, len(o.used))
	for k := range o.used {
		known = append(known, k)
	}
	sort.Strings(known)
	for _, k := range unknown {
		o.ps.add(o.p(k), "unknown property%s", suggest(k, known))
	}
}

func jsonKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		_ = x
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
