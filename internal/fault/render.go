package fault

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Names renders a field's domain path in an adapter's convention. ok is
// false when the field has no name there (the caller never sent it, e.g. the
// Players of a ticket a player starts for itself): Render then moves its
// reason into the error's message.
type Names func(path string) (name string, ok bool)

// Render returns err with the fields of its *Error renamed by names. err is
// returned as it is when it carries no fields; otherwise the result is a
// copy of the *Error (without the context err wrapped it in), so the
// service's error is never changed.
func Render(err error, names Names) error {
	var fe *Error
	if !errors.As(err, &fe) || len(fe.Fields) == 0 {
		return err
	}
	return fe.Rendered(names)
}

// Rendered returns a copy of e with its fields renamed by names; the reasons
// of fields without a name become the message.
func (e *Error) Rendered(names Names) *Error {
	out := *e
	out.Fields = make([]FieldError, 0, len(e.Fields))
	var unnamed []string
	for _, f := range e.Fields {
		if name, ok := names(f.Field); ok {
			out.Fields = append(out.Fields, FieldError{Field: name, Reason: f.Reason})
		} else {
			unnamed = append(unnamed, f.Reason)
		}
	}
	if len(unnamed) > 0 {
		out.Message = strings.Join(unnamed, "; ")
	}
	if len(out.Fields) == 0 {
		out.Fields = nil
	}
	return &out
}

// GameLiftName renders a field for the GameLift control API. Domain paths
// are GameLift member names already and stay as they are; a path in the
// player API's convention ("$.configurationName") loses its "$." and its
// first member starts upper-case ("ConfigurationName"), the only name the
// two conventions can be sure to share.
func GameLiftName(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "$.")
	if !ok || rest == "" {
		return path, true
	}
	r, n := utf8.DecodeRuneInString(rest)
	return string(unicode.ToUpper(r)) + rest[n:], true
}

// JSONPath renders a field for the player API: a domain path becomes a JSON
// path in camelCase, "Players[0].PlayerId" → "$.players[0].playerId". Each
// segment that is a GameLift member name (an upper-case ASCII letter, then
// letters and digits) starts lower-case; other segments (map keys such as
// "custom-eu") stay as they are. A path that does not start with a member
// name ("$.latencyInMs", "If-Match", "limit") is not a domain path and is
// kept.
func JSONPath(path string) (string, bool) {
	segs := strings.Split(path, ".")
	if !isMember(segs[0]) {
		return path, true
	}
	for i, s := range segs {
		if isMember(s) {
			segs[i] = strings.ToLower(s[:1]) + s[1:]
		}
	}
	return "$." + strings.Join(segs, "."), true
}

// isMember reports whether s, less any [i] suffixes, is a GameLift member
// name.
func isMember(s string) bool {
	if i := strings.IndexByte(s, '['); i >= 0 {
		s = s[:i]
	}
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
