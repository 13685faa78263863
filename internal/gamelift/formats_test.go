package gamelift_test

import (
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
)

func TestFormats(t *testing.T) {
	fs := gamelift.NewFormats()
	tests := []struct {
		name   string
		format string
		value  string
		valid  bool
	}{
		{"a fleet id is valid", "FleetId", "fleet-2222bbbb-33cc-44dd-55ee-6666ffff77aa", true},
		{"a container fleet id is valid", "FleetId", "containerfleet-1", true},
		{"a fleet id without the prefix is invalid", "FleetId", "2222bbbb", false},
		{"an empty fleet id is invalid", "FleetId", "", false},
		{"a fleet ARN is a FleetIdOrArn", "FleetIdOrArn", "arn:aws:gamelift:eu-west-1:123456789012:fleet/fleet-1", true},
		{"a custom location name is valid", "CustomInputLocationStringModel", "custom-home", true},
		{"a custom location name shorter than 8 characters is invalid", "CustomInputLocationStringModel", "custom-", false},
		{"a custom location name must start with custom-", "CustomInputLocationStringModel", "home-location", false},
		{"a custom location name longer than 64 characters is invalid", "CustomInputLocationStringModel", "custom-" + strings.Repeat("a", 58), false},
		{"a location ARN is a CustomLocationNameOrArnModel", "CustomLocationNameOrArnModel", "arn:aws:gamelift:r:1:location/custom-x", true},
		{"a blank string is not NonBlank", "NonBlankAndLengthConstraintString", "   ", false},
		{"a cost with five decimals is valid", "NonNegativeLimitedLengthDouble", "0.12345", true},
		{"a negative cost is invalid", "NonNegativeLimitedLengthDouble", "-1", false},
		{"a launch path with a backslash is valid", "LaunchPathStringModel", `C:\game\server.exe`, true},
		{"a player session id is valid", "PlayerSessionId", "psess-1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fs.Get(tt.format).Valid(tt.value); got != tt.valid {
				t.Fatalf("%s.Valid(%q) = %v, want %v (%s)", tt.format, tt.value, got, tt.valid, fs.Get(tt.format).Problem(tt.value))
			}
		})
	}
}

func TestEveryFormatCompilesAndIsReachable(t *testing.T) {
	fs := gamelift.NewFormats()
	names := fs.Names()
	if len(names) != 44 {
		t.Fatalf("got %d formats, want the 44 named formats of GameLift's model", len(names))
	}
	for _, n := range names {
		if fs.Get(n).Name != n {
			t.Fatalf("format %s has name %q", n, fs.Get(n).Name)
		}
	}
}

func TestCheckNamesTheMemberAndTheReason(t *testing.T) {
	fs := gamelift.NewFormats()
	var v fault.Validator
	fs.Check(&v, "FleetId", "FleetId", "nope")
	fs.Check(&v, "Location", "LocationStringModel", "")
	err := v.Err()
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"FleetId: must be a valid FleetId", "Location: must be 1 to 64 characters"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not contain %q", msg, want)
		}
	}
}

func TestCheckSetChecksOnlyAGivenValue(t *testing.T) {
	fs := gamelift.NewFormats()
	var v fault.Validator
	fs.CheckSet(&v, "Location", "LocationStringModel", "")
	if err := v.Err(); err != nil {
		t.Fatalf("an empty optional member was checked: %v", err)
	}
	fs.CheckSet(&v, "FleetId", "FleetId", "nope")
	if err := v.Err(); err == nil || !strings.Contains(err.Error(), "FleetId: must be a valid FleetId") {
		t.Fatalf("a given member was not checked: %v", err)
	}
}

func TestCheckLengthNamesTheMemberAndCheckLengthSetSkipsAnEmptyOne(t *testing.T) {
	var v fault.Validator
	gamelift.CheckLengthSet(&v, "Description", "", 1, 4)
	gamelift.CheckLength(&v, "Name", "short", 1, 8)
	if err := v.Err(); err != nil {
		t.Fatalf("valid lengths were refused: %v", err)
	}
	gamelift.CheckLength(&v, "Name", "", 1, 8)
	gamelift.CheckLengthSet(&v, "Description", "too long", 1, 4)
	err := v.Err()
	if err == nil {
		t.Fatal("bad lengths were accepted")
	}
	for _, want := range []string{"Name: must be 1 to 8 characters", "Description: must be 1 to 4 characters"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not contain %q", err, want)
		}
	}
}

func TestUnknownFormatPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	gamelift.NewFormats().Get("NoSuchFormat")
}
