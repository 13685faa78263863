package service_test

import (
	"context"
	"testing"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/service"
)

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
