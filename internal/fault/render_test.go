package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/musterhq/muster/internal/fault"
)

func TestEachConventionRendersDomainPaths(t *testing.T) {
	for _, tt := range []struct {
		convention string
		names      fault.Names
		in, want   string
	}{
		{"JSON path", fault.JSONPath, "ConfigurationName", "$.configurationName"},
		{"JSON path", fault.JSONPath, "Players[0].PlayerId", "$.players[0].playerId"},
		{"JSON path", fault.JSONPath, "Players[1].LatencyInMs.custom-eu", "$.players[1].latencyInMs.custom-eu"},
		{"JSON path", fault.JSONPath, "Players[2].PlayerAttributes.skill", "$.players[2].playerAttributes.skill"},
		{"JSON path", fault.JSONPath, "$.latencyInMs.custom-eu", "$.latencyInMs.custom-eu"},
		{"JSON path", fault.JSONPath, "$.attributes.Skill", "$.attributes.Skill"},
		{"JSON path", fault.JSONPath, "If-Match", "If-Match"},
		{"JSON path", fault.JSONPath, "limit", "limit"},
		{"GameLift", fault.GameLiftName, "Players[0].PlayerId", "Players[0].PlayerId"},
		{"GameLift", fault.GameLiftName, "ConfigurationName", "ConfigurationName"},
		{"GameLift", fault.GameLiftName, "$.configurationName", "ConfigurationName"},
		{"GameLift", fault.GameLiftName, "$.latencyInMs.custom-eu", "LatencyInMs.custom-eu"},
		{"GameLift", fault.GameLiftName, "$", "$"},
	} {
		if got, ok := tt.names(tt.in); !ok || got != tt.want {
			t.Errorf("%s of %q = %q, %v; want %q", tt.convention, tt.in, got, ok, tt.want)
		}
	}
}

func TestRender(t *testing.T) {
	var v fault.Validator
	v.Add("ConfigurationName", "is required")
	v.Add("Players[0].PlayerId", "player %s is already in a ticket", "p-1")
	err := fmt.Errorf("start: %w", v.Err())
	noPlayers := func(path string) (string, bool) {
		if path == "Players[0].PlayerId" {
			return "", false
		}
		return fault.JSONPath(path)
	}

	t.Run("named fields are renamed and unnamed ones become the message", func(t *testing.T) {
		var fe *fault.Error
		if !errors.As(fault.Render(err, noPlayers), &fe) {
			t.Fatal("not a fault")
		}
		if fe.Kind != fault.Invalid || len(fe.Fields) != 1 || fe.Fields[0].Field != "$.configurationName" || fe.Message != "player p-1 is already in a ticket" {
			t.Fatalf("%+v", fe)
		}
	})
	t.Run("the service's error is left as it was", func(t *testing.T) {
		var fe *fault.Error
		errors.As(err, &fe)
		if fe.Fields[0].Field != "ConfigurationName" || len(fe.Fields) != 2 {
			t.Fatalf("%+v", fe)
		}
	})
	t.Run("an error without fields is returned as it is", func(t *testing.T) {
		plain := fmt.Errorf("x: %w", fault.New(fault.NotFound, "no such thing"))
		if fault.Render(plain, noPlayers) != plain {
			t.Fatal("changed")
		}
	})
	t.Run("when every field is unnamed none is left", func(t *testing.T) {
		fe := fault.BadField("Players[0].PlayerId", "already in a ticket").Rendered(noPlayers)
		if fe.Fields != nil || fe.Error() != "already in a ticket" {
			t.Fatalf("%+v: %s", fe, fe)
		}
	})
}
