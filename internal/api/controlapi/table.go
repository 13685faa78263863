package controlapi

import (
	"context"
	"fmt"
	"reflect"
	"slices"
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
	// invoke decodes the input with decode, calls the service and returns its
	// output (never a nil pointer).
	invoke func(ctx context.Context, decode func(v any) error) (any, error)
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
	t.ops[name] = &operation{
		name:  name,
		types: types,
		invoke: func(ctx context.Context, decode func(v any) error) (any, error) {
			in := new(In)
			if err := decode(in); err != nil {
				return nil, err
			}
			out, err := h(ctx, in)
			if err != nil {
				return nil, err
			}
			if out == nil {
				return emptyOutput{}, nil
			}
			return out, nil
		},
	}
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
