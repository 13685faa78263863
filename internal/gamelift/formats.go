package gamelift

import (
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/musterhq/muster/internal/fault"
)

// Format is one of GameLift's named string formats (from its Smithy model): a
// length range in characters and a pattern. Patterns are the model's
// unchanged and, as in Smithy, not implicitly anchored.
type Format struct {
	Name    string
	MinLen  int
	MaxLen  int // 0: no upper bound
	Pattern *regexp.Regexp
}

// Problem returns why s does not satisfy f, or "" when it does.
func (f Format) Problem(s string) string {
	n := utf8.RuneCountInString(s)
	switch {
	case n < f.MinLen || (f.MaxLen > 0 && n > f.MaxLen):
		if f.MaxLen == 0 {
			return fmt.Sprintf("must be at least %d characters", f.MinLen)
		}
		return fmt.Sprintf("must be %d to %d characters", f.MinLen, f.MaxLen)
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case f.Pattern != nil && !f.Pattern.MatchString(s):
		return fmt.Sprintf("must be a valid %s (pattern %s)", f.Name, f.Pattern)
	}
	return ""
}

// Valid reports whether s satisfies f.
func (f Format) Valid(s string) bool { return f.Problem(s) == "" }

// Formats is the set of named formats, built once by NewFormats and then
// read-only (safe for concurrent use).
type Formats struct {
	byName map[string]Format
}

// formatSpec is one row of the table of GameLift's formats.
type formatSpec struct {
	name     string
	min, max int
	pattern  string
}

var formatSpecs = [...]formatSpec{
	{"AliasArn", 0, 0, `^arn:.*:alias\/alias-\S+$`},
	{"AliasId", 0, 0, `^alias-\S+$`},
	{"AliasIdOrArn", 0, 0, `^alias-\S+|^arn:.*:alias\/alias-\S+$`},
	{"ArnStringModel", 1, 512, `^[a-zA-Z0-9:/-]+$`},
	{"BuildArn", 0, 0, `^arn:.*:build\/build-\S+$`},
	{"BuildId", 0, 0, `^build-\S+$`},
	{"BuildIdOrArn", 0, 0, `^build-\S+|^arn:.*:build\/build-\S+$`},
	{"ComputeArn", 0, 1024, `^arn:.*:compute\/[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$`},
	{"ComputeAuthToken", 1, 64, `^[a-zA-Z0-9\-]+$`},
	{"ComputeName", 1, 128, `^[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$`},
	{"ComputeNameOrArn", 0, 1024, `^[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$|^arn:.*:compute\/[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$`},
	{"ContainerGroupDefinitionNameOrArn", 1, 512, `^[a-zA-Z0-9\-]+$|^arn:.*:containergroupdefinition\/[a-zA-Z0-9\-]+(:[0-9]+)?$`},
	{"CustomInputLocationStringModel", 8, 64, `^custom-[A-Za-z0-9\-]+$`},
	{"CustomLocationNameOrArnModel", 1, 128, `^custom-[A-Za-z0-9\-]+|^arn:.*:location\/custom-\S+$`},
	{"DnsNameInput", 1, 256, `^[0-9a-zA-Z_\-\.]+$`},
	{"FleetArn", 1, 512, `^arn:.*:[a-z]*fleet\/[a-z]*fleet-[a-zA-Z0-9\-]+$`},
	{"FleetId", 1, 128, `^[a-z]*fleet-[a-zA-Z0-9\-]+$`},
	{"FleetIdOrArn", 1, 512, `^[a-z]*fleet-[a-zA-Z0-9\-]+$|^arn:.*:[a-z]*fleet\/[a-z]*fleet-[a-zA-Z0-9\-]+$`},
	{"GameSessionQueueArn", 1, 256, `^arn:.*:gamesessionqueue\/[a-zA-Z0-9-]+$`},
	{"GameSessionQueueName", 1, 128, `^[a-zA-Z0-9-]+$`},
	{"GameSessionQueueNameOrArn", 1, 256, `^[a-zA-Z0-9-]+|^arn:.*:gamesessionqueue\/[a-zA-Z0-9-]+$`},
	{"IdStringModel", 1, 48, `^[a-zA-Z0-9-]+$`},
	{"InstanceId", 0, 0, `^[a-zA-Z0-9\.-]+$`},
	{"IpAddress", 1, 128, `^[0-9A-Fa-f\:\.]+$`},
	{"IpRange", 0, 0, `^[^\s]+$`},
	{"LaunchParametersStringModel", 1, 1024, `^[A-Za-z0-9_:.+\/\\\- =@;{},?'\[\]"]+$`},
	{"LaunchPathStringModel", 1, 1024, `^[A-Za-z0-9_:.+\/\\\- ]+$`},
	{"LocationArnModel", 1, 128, `^arn:.*:location\/custom-\S+$`},
	{"LocationStringModel", 1, 64, `^[A-Za-z0-9\-]+$`},
	{"MatchmakingConfigurationArn", 0, 0, `^arn:.*:matchmakingconfiguration\/[a-zA-Z0-9-\.]*$`},
	{"MatchmakingConfigurationName", 1, 256, `^[a-zA-Z0-9-\.]*|^arn:.*:matchmakingconfiguration\/[a-zA-Z0-9-\.]*$`},
	{"MatchmakingIdStringModel", 0, 128, `^[a-zA-Z0-9-\.]*$`},
	{"MatchmakingRuleSetArn", 0, 0, `^arn:.*:matchmakingruleset\/[a-zA-Z0-9-\.]*$`},
	{"MatchmakingRuleSetName", 1, 256, `^[a-zA-Z0-9-\.]*|^arn:.*:matchmakingruleset\/[a-zA-Z0-9-\.]*$`},
	{"NonBlankAndLengthConstraintString", 1, 1024, `\S`},
	{"NonNegativeLimitedLengthDouble", 1, 11, `^\d{1,5}(?:\.\d{1,5})?$`},
	{"NonZeroAnd128MaxAsciiString", 1, 128, `^[a-zA-Z0-9\-]+$`},
	{"PlayerSessionId", 0, 0, `^psess-\S+$`},
	{"QueueCustomEventData", 0, 256, `^[\s\S]*$`},
	{"QueueSnsArnStringModel", 0, 300, `^[a-zA-Z0-9:_-]*(\.fifo)?$`},
	{"ScriptArn", 0, 0, `^arn:.*:script\/script-\S+$`},
	{"ScriptId", 0, 0, `^script-\S+$`},
	{"ScriptIdOrArn", 0, 0, `^script-\S+|^arn:.*:script\/script-\S+$`},
	{"SnsArnStringModel", 0, 300, `^[a-zA-Z0-9:_/-]*(.fifo)?$`},
}

// NewFormats compiles every named format. Build it once at start-up and
// share it.
func NewFormats() *Formats {
	fs := &Formats{byName: make(map[string]Format, len(formatSpecs))}
	for _, s := range formatSpecs {
		fs.byName[s.name] = Format{Name: s.name, MinLen: s.min, MaxLen: s.max, Pattern: regexp.MustCompile(s.pattern)}
	}
	return fs
}

// Get returns the format called name (a format name such as "FleetId"). It
// panics on an unknown name: names are constants in the calling code.
func (fs *Formats) Get(name string) Format {
	f, ok := fs.byName[name]
	if !ok {
		panic("gamelift: unknown string format " + name)
	}
	return f
}

// Names returns every known format name.
func (fs *Formats) Names() []string {
	names := make([]string, 0, len(fs.byName))
	for _, s := range formatSpecs {
		names = append(names, s.name)
	}
	return names
}

// Check records member as invalid on v unless value satisfies the format
// called format.
func (fs *Formats) Check(v *fault.Validator, member, format, value string) {
	if p := fs.Get(format).Problem(value); p != "" {
		v.Add(member, "%s", p)
	}
}

// CheckSet is Check for an optional member: an empty value is not checked.
func (fs *Formats) CheckSet(v *fault.Validator, member, format, value string) {
	if value != "" {
		fs.Check(v, member, format, value)
	}
}

// Length returns why s is not lo..hi characters long (hi 0: no bound), or "",
// for the members whose constraint is a plain length.
func Length(s string, lo, hi int) string {
	return Format{MinLen: lo, MaxLen: hi}.Problem(s)
}

// CheckLength records member as invalid on v unless s is lo..hi characters
// long (Length), as Check does for a named format.
func CheckLength(v *fault.Validator, member, s string, lo, hi int) {
	if p := Length(s, lo, hi); p != "" {
		v.Add(member, "%s", p)
	}
}

// CheckLengthSet is CheckLength for an optional member: an empty value is
// not checked.
func CheckLengthSet(v *fault.Validator, member, s string, lo, hi int) {
	if s != "" {
		CheckLength(v, member, s, lo, hi)
	}
}
