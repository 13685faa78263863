package controlapi

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Table maps GameLift operation names to service calls. Register every
// operation before passing the Table to New; New takes a snapshot, and a
// Table is not safe for concurrent Register calls.
type Table struct {
	ops map[string]*operation
}

// NewTable returns an empty operation table.
func NewTable() *Table { return &Table{ops: make(map[string]*operation)} }

// operation is one registered operation, its types erased.
type operation struct {
	name string
	// readOnly is true for the operations that change nothing (see
	// isReadOnly); the others are audited.
	readOnly bool
	// invoke decodes the input with decode, calls the service and returns its
	// output (never a nil pointer) and the resources its input names (see
	// identifiers). start, when set, gets those resources once the input
	// is decoded and gives the context the service runs in.
	invoke func(ctx context.Context, decode func(v any) error, start func(context.Context, map[string]string) context.Context) (any, map[string]string, error)
	// types holds every type reachable from the input by its String(), to
	// describe the expected type of a member in decode errors.
	types map[string]reflect.Type
}

// emptyOutput encodes as {} (JSON) or an empty map 0xA0 (CBOR).
type emptyOutput struct{}

// Register adds the operation name (e.g. "ListLocations") to t. In must be a
// struct type. h gets the decoded input and a context carrying the caller's
// auth.Principal; a nil *Out is sent as an empty structure. Register panics
// if name is empty or already registered, or In is not a struct, like
// http.ServeMux does for conflicting patterns.
func Register[In, Out any](t *Table, name string, h func(ctx context.Context, in *In) (*Out, error)) {
	inType := reflect.TypeFor[In]()
	switch {
	case name == "":
		panic("controlapi: empty operation name")
	case t.ops[name] != nil:
		panic(fmt.Sprintf("controlapi: operation %s registered twice", name))
	case inType.Kind() != reflect.Struct:
		panic(fmt.Sprintf("controlapi: input of %s is %s, not a struct", name, inType))
	case h == nil:
		panic(fmt.Sprintf("controlapi: nil handler for %s", name))
	}
	types := make(map[string]reflect.Type)
	collectTypes(inType, types)
	ids := identifiers(inType)
	t.ops[name] = &operation{
		name:     name,
		readOnly: isReadOnly(name),
		types:    types,
		invoke: func(ctx context.Context, decode func(v any) error, start func(context.Context, map[string]string) context.Context) (any, map[string]string, error) {
			in := new(In)
			if err := decode(in); err != nil {
				return nil, nil, err
			}
			resources := ids.of(reflect.ValueOf(in).Elem())
			if start != nil {
				ctx = start(ctx, resources)
			}
			out, err := h(ctx, in)
			if err != nil {
				return nil, nil, err
			}
			if out == nil {
				return emptyOutput{}, resources, nil
			}
			return out, resources, nil
		},
	}
}

// readPrefixes name GameLift's operations that change nothing: the SDKs'
// own naming, which IAM's read-only policies follow too.
var readPrefixes = []string{"Describe", "List", "Get", "Search", "Validate", "Resolve"}

// issuesCredentials are named as reads but store what they hand out (a
// compute's auth token), so they need an admin key and are audited.
var issuesCredentials = map[string]bool{"GetComputeAuthToken": true}

// isReadOnly reports whether the operation name is a read. Everything
// else is a write, audited after it succeeds.
func isReadOnly(name string) bool {
	if issuesCredentials[name] {
		return false
	}
	for _, p := range readPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// ReadOnly reports whether the registered operation name changes nothing.
func (t *Table) ReadOnly(name string) bool {
	op := t.ops[name]
	return op != nil && op.readOnly
}

// maxIdentifier bounds an identifier member's value in an audit entry.
const maxIdentifier = 256

// idFields are an input's identifier members: top-level strings named
// …Id, …Name or …Arn (FleetId, LocationName, ResourceARN), which say what
// a write touched and never hold a secret.
type idFields []struct {
	index  int
	member string
}

func identifiers(t reflect.Type) idFields {
	var ids idFields
	for i := range t.NumField() {
		f := t.Field(i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		member, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if member == "" {
			member = f.Name
		}
		upper := strings.ToUpper(member)
		if f.IsExported() && ft.Kind() == reflect.String &&
			(strings.HasSuffix(member, "Id") || strings.HasSuffix(member, "Name") || strings.HasSuffix(upper, "ARN")) {
			ids = append(ids, struct {
				index  int
				member string
			}{i, member})
		}
	}
	return ids
}

// of returns the identifier members set in v (an input struct).
func (ids idFields) of(v reflect.Value) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		f := v.Field(id.index)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		if s := f.String(); s != "" {
			if len(s) > maxIdentifier {
				s = s[:maxIdentifier]
			}
			out[id.member] = s
		}
	}
	return out
}

// Names returns the registered operation names, sorted.
func (t *Table) Names() []string {
	names := make([]string, 0, len(t.ops))
	for n := range t.ops {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func collectTypes(t reflect.Type, seen map[string]reflect.Type) {
	if _, ok := seen[t.String()]; ok {
		return
	}
	seen[t.String()] = t
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		collectTypes(t.Elem(), seen)
	case reflect.Map:
		collectTypes(t.Key(), seen)
		collectTypes(t.Elem(), seen)
	case reflect.Struct:
		for f := range t.Fields() {
			if f.IsExported() {
				collectTypes(f.Type, seen)
			}
		}
	}
}
