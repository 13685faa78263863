package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/musterhq/muster/internal/fault"
)

func TestJSONPathRendersDomainPathsInCamelCase(t *testing.T) {
	for in, want := range map[string]string{
		"ConfigurationName":                 "$.configurationName",
		"Players[0].PlayerId":               "$.players[0].playerId",
		"Players[1].LatencyInMs.custom-eu":  "$.players[1].latencyInMs.custom-eu",
		"Players[2].PlayerAttributes.skill": "$.players[2].playerAttributes.skill",
		"$.latencyInMs.custom-eu":           "$.latencyInMs.custom-eu",
		"$.attributes.Skill":                "$.attributes.Skill",
		"If-Match":                          "If-Match",
		"limit":                             "limit",
	} {
		if got, ok := fault.JSONPath(in); !ok || got != want {
			t.Errorf("JSONPath(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestGameLiftNameKeepsMemberNames(t *testing.T) {
	for in, want := range map[string]string{
		"Players[0].PlayerId":     "Players[0].PlayerId",
		"ConfigurationName":       "ConfigurationName",
		"$.configurationName":     "ConfigurationName",
		"$.latencyInMs.custom-eu": "LatencyInMs.custom-eu",
		"$":                       "$",
	} {
		if got, ok := fault.GameLiftName(in); !ok || got != want {
			t.Errorf("GameLiftName(%q) = %q, %v; want %q", in, got, ok, want)
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
