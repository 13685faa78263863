package service_test

import (
	"context"
	"slices"
	"testing"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

func TestAuthorize(t *testing.T) {
	reader := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, AccessKeyID: "AK", Role: auth.RoleReadOnly})
	for _, tt := range []struct {
		name    string
		ctx     context.Context
		write   bool
		check   func(v *fault.Validator)
		want    fault.Kind // of the refusal; Internal stands for none
		checked bool
	}{
		{"a read-only key may read with well-formed input", reader, false, func(v *fault.Validator) {}, fault.Internal, true},
		{"no check only authorises", reader, false, nil, fault.Internal, false},
		{"every bad member is named", reader, false, func(v *fault.Validator) { v.Add("A", "is bad"); v.Add("B", "is bad") }, fault.Invalid, true},
		{"a read-only key may not write, and its input is not looked at", reader, true, func(v *fault.Validator) { v.Add("A", "is bad") }, fault.Forbidden, false},
		{"a caller with no key is refused before its input is checked", context.Background(), false, func(v *fault.Validator) { v.Add("A", "is bad") }, fault.Unauthenticated, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checked := false
			check := tt.check
			if check != nil {
				check = func(v *fault.Validator) { checked = true; tt.check(v) }
			}
			err := service.Authorize(tt.ctx, tt.write, check)
			got := fault.Internal
			if err != nil {
				got = err.(*fault.Error).Kind
			}
			if got != tt.want || checked != tt.checked {
				t.Fatalf("Authorize = %v (input checked: %v), want kind %v (checked: %v)", err, checked, tt.want, tt.checked)
			}
			if got == fault.Invalid && len(err.(*fault.Error).Fields) != 2 {
				t.Fatalf("Authorize named %v, want A and B", err.(*fault.Error).Fields)
			}
		})
	}
}

func TestAuthorizeList(t *testing.T) {
	reader := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, AccessKeyID: "AK", Role: auth.RoleReadOnly})
	limit := int32(7)
	t.Run("a reader gets the page size and cursor", func(t *testing.T) {
		n, after, err := service.AuthorizeList(reader, &limit, 50, 0, store.EncodePageToken("fleet-9"), nil)
		if n != 7 || after != "fleet-9" || err != nil {
			t.Fatalf("AuthorizeList = %d, %q, %v; want 7, fleet-9", n, after, err)
		}
	})
	t.Run("the input's members and the page's are named together", func(t *testing.T) {
		_, _, err := service.AuthorizeList(reader, &limit, 50, 5, "!!", func(v *fault.Validator) { v.Add("Name", "is bad") })
		var got []string
		if f, ok := err.(*fault.Error); ok {
			for _, b := range f.Fields {
				got = append(got, b.Field)
			}
		}
		if !slices.Equal(got, []string{"Name", "Limit", "NextToken"}) {
			t.Fatalf("AuthorizeList named %v (%v), want Name, Limit and NextToken", got, err)
		}
	})
	t.Run("a caller with no key is refused first", func(t *testing.T) {
		if _, _, err := service.AuthorizeList(context.Background(), &limit, 50, 5, "!!", nil); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("AuthorizeList without a key = %v, want Unauthenticated", err)
		}
	})
}

func TestRequireOperatorOn(t *testing.T) {
	b := service.Base{}.WithDefaults()
	admin := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, AccessKeyID: "AK", Role: auth.RoleAdmin})
	reader := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, AccessKeyID: "AK", Role: auth.RoleReadOnly})
	for _, tt := range []struct {
		name  string
		ctx   context.Context
		write bool
		id    string
		want  fault.Kind // of the refusal; Internal stands for none
	}{
		{"an admin may change a well-formed fleet", admin, true, "fleet-1", fault.Internal},
		{"a read-only key may read it", reader, false, "fleet-1", fault.Internal},
		{"a read-only key may not change it", reader, true, "fleet-1", fault.Forbidden},
		{"a caller with no key is refused before the name is checked", context.Background(), false, "", fault.Unauthenticated},
		{"a malformed name is named by its member", admin, false, "", fault.Invalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := b.RequireOperatorOn(tt.ctx, tt.write, "FleetId", "FleetIdOrArn", tt.id)
			got := fault.Internal
			if err != nil {
				got = err.(*fault.Error).Kind
			}
			if got != tt.want {
				t.Fatalf("RequireOperatorOn = %v, want kind %v", err, tt.want)
			}
			if got == fault.Invalid && err.(*fault.Error).Fields[0].Field != "FleetId" {
				t.Fatalf("RequireOperatorOn named %v, want FleetId", err.(*fault.Error).Fields)
			}
		})
	}
}
