package gamelift_test

import (
	"math"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
)

func TestAttributeValueValidate(t *testing.T) {
	s := func(v string) *string { return &v }
	n := func(v float64) *float64 { return &v }
	long := strings.Repeat("é", 101)
	for _, tt := range []struct {
		name  string
		a     gamelift.AttributeValue
		field string // "" when valid
	}{
		{"a string", gamelift.AttributeValue{S: s("gold")}, ""},
		{"a number", gamelift.AttributeValue{N: n(-1.5)}, ""},
		{"an empty list", gamelift.AttributeValue{SL: []string{}}, ""},
		{"a map", gamelift.AttributeValue{SDM: map[string]float64{"eu": 1}}, ""},
		{"nothing set", gamelift.AttributeValue{}, "$.a"},
		{"two members", gamelift.AttributeValue{S: s("x"), N: n(1)}, "$.a"},
		{"an empty string", gamelift.AttributeValue{S: s("")}, "$.a.S"},
		{"101 characters", gamelift.AttributeValue{S: s(long)}, "$.a.S"},
		{"invalid UTF-8", gamelift.AttributeValue{S: s("\xff")}, "$.a.S"},
		{"NaN", gamelift.AttributeValue{N: n(math.NaN())}, "$.a.N"},
		{"an empty list item", gamelift.AttributeValue{SL: []string{"a", ""}}, "$.a.SL[1]"},
		{"101 list items", gamelift.AttributeValue{SL: make([]string, 101)}, "$.a.SL"},
		{"an empty map key", gamelift.AttributeValue{SDM: map[string]float64{"": 1}}, `$.a.SDM[""]`},
		{"11 map entries", gamelift.AttributeValue{SDM: map[string]float64{"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1, "g": 1, "h": 1, "i": 1, "j": 1, "k": 1}}, "$.a.SDM"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var v fault.Validator
			tt.a.Validate("$.a", &v)
			err := v.Err()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			fe, _ := err.(*fault.Error)
			if fe == nil || fe.Fields[0].Field != tt.field {
				t.Fatalf("got %v, want a problem at %s", err, tt.field)
			}
		})
	}
}
