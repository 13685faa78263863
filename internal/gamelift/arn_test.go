package gamelift_test

import (
	"testing"

	"github.com/musterhq/muster/internal/gamelift"
)

func TestARNBuilder(t *testing.T) {
	b := gamelift.ARNBuilder{Region: "eu-west-1", Account: "123456789012"}
	tests := []struct {
		name     string
		arn      string
		typ, id  string
		parsesOK bool
	}{
		{"a fleet ARN has the aws partition and the account", b.Build(gamelift.ResourceFleet, "fleet-1"), "fleet", "fleet-1", true},
		{"a game session ARN has no account and keeps the fleet in its id", b.GameSession("fleet-1", "", "gsess-9"), "gamesession", "fleet-1/gsess-9", true},
		{"a game session in a custom location carries the location", b.GameSession("fleet-1", "custom-a", "gsess-9"), "gamesession", "fleet-1/custom-a/gsess-9", true},
		{"another region is not ours", "arn:aws:gamelift:us-east-1:123456789012:fleet/fleet-1", "", "", false},
		{"another account is not ours", "arn:aws:gamelift:eu-west-1:999999999999:fleet/fleet-1", "", "", false},
		{"another service is not ours", "arn:aws:s3:eu-west-1:123456789012:fleet/fleet-1", "", "", false},
		{"a resource without id is refused", "arn:aws:gamelift:eu-west-1:123456789012:fleet", "", "", false},
		{"garbage is refused", "fleet-1", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, id, ok := b.Parse(tt.arn)
			if ok != tt.parsesOK || typ != tt.typ || id != tt.id {
				t.Fatalf("Parse(%q) = %q, %q, %v; want %q, %q, %v", tt.arn, typ, id, ok, tt.typ, tt.id, tt.parsesOK)
			}
		})
	}
	if got, want := gamelift.ARN("eu-west-1", "123456789012", "location", "custom-x"), "arn:aws:gamelift:eu-west-1:123456789012:location/custom-x"; got != want {
		t.Fatalf("ARN() = %q, want %q", got, want)
	}
	if got, want := (gamelift.ARNBuilder{Partition: "muster", Region: "home"}).Build("alias", "alias-1"), "arn:muster:gamelift:home::alias/alias-1"; got != want {
		t.Fatalf("Build with a partition = %q, want %q", got, want)
	}
}

func TestARNsSatisfyTheModelFormats(t *testing.T) {
	fs := gamelift.NewFormats()
	b := gamelift.ARNBuilder{Region: "eu-west-1", Account: "123456789012"}
	for format, arn := range map[string]string{
		"FleetArn":            b.Build(gamelift.ResourceFleet, "fleet-0b1c2d3e-1111-4222-8333-444455556666"),
		"AliasArn":            b.Build(gamelift.ResourceAlias, "alias-0b1c2d3e"),
		"LocationArnModel":    b.Build(gamelift.ResourceLocation, "custom-home"),
		"ComputeArn":          b.Build(gamelift.ResourceCompute, "host-1"),
		"GameSessionQueueArn": b.Build(gamelift.ResourceGameSessionQueue, "main"),
		"ArnStringModel":      b.GameSession("fleet-1", "custom-home", "gsess-1"),
	} {
		if p := fs.Get(format).Problem(arn); p != "" {
			t.Errorf("%s %q: %s", format, arn, p)
		}
	}
}
