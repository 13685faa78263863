package session_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/session"
)

var row = session.Row{ID: "arn:aws:gamelift:mu-local-1::gamesession/fleet-1/custom-a/g1", Name: "Matt's Awesome Game 1",
	Properties: map[string]string{"difficulty": "novice", "mode": "ctf"}, MaximumSessions: 10, CreationTimeMillis: 1700000000000,
	PlayerSessionCount: 3, HasAvailable: true}

func TestFilterExpressions(t *testing.T) {
	tests := []struct {
		name, expr string
		want       bool
	}{
		{"a string equals", `gameSessionName = 'Matt\'s Awesome Game 1'`, true},
		{"a double-quoted property value equals", `gameSessionProperties.difficulty = "novice"`, true},
		{"a string differs", `gameSessionProperties.mode <> 'ctf'`, false},
		{"a missing property never matches", `gameSessionProperties.map = 'x'`, false},
		{"a missing property never differs either", `gameSessionProperties.map <> 'x'`, false},
		{"numbers compare without spaces", `maximumSessions>=10 AND hasAvailablePlayerSessions=true`, true},
		{"less than", `playerSessionCount < 3`, false},
		{"less or equal", `playerSessionCount <= 3`, true},
		{"greater than a time", `creationTimeMillis > 1600000000000`, true},
		{"AND binds tighter than OR", `maximumSessions = 1 AND playerSessionCount = 3 OR hasAvailablePlayerSessions = true`, true},
		{"parentheses regroup", `maximumSessions = 1 AND (playerSessionCount = 3 OR hasAvailablePlayerSessions = true)`, false},
		{"NOT negates", `NOT hasAvailablePlayerSessions = false`, true},
		{"keywords in any case", `maximumSessions = 10 and not playerSessionCount = 4`, true},
		{"the game session id", `gameSessionId = 'arn:aws:gamelift:mu-local-1::gamesession/fleet-1/custom-a/g1'`, true},
		{"booleans differ", `hasAvailablePlayerSessions <> true`, false},
		{"a negative number", `playerSessionCount > -1`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := session.ParseFilter(tt.expr)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.expr, err)
			}
			if got := f.Match(&row); got != tt.want {
				t.Fatalf("%s matches %v, want %v", f, got, tt.want)
			}
			again, err := session.ParseFilter(f.String())
			if err != nil || again.String() != f.String() {
				t.Fatalf("String() %q does not parse back: %v", f.String(), err)
			}
		})
	}
}

func TestFilterSyntaxErrorsNameThePosition(t *testing.T) {
	tests := []struct {
		name, expr string
		pos        int
		mention    string
	}{
		{"an empty expression", `  `, 1, "empty"},
		{"a missing value", `maximumSessions >`, 18, "compared with a number"},
		{"an unknown operand", `players = 3`, 1, "unknown operand"},
		{"a string compared with <", `gameSessionName < 'x'`, 17, "only = and <>"},
		{"a number compared with a string", `maximumSessions = 'ten'`, 19, "a number"},
		{"a boolean compared with a number", `hasAvailablePlayerSessions = 1`, 30, "true or false"},
		{"an unclosed string", `gameSessionName = 'open`, 19, "not closed"},
		{"an unclosed parenthesis", `(maximumSessions = 1`, 21, "')'"},
		{"a dangling AND", `maximumSessions = 1 AND`, 24, "expected an operand"},
		{"two comparisons without AND", `maximumSessions = 1 playerSessionCount = 2`, 21, "expected AND, OR"},
		{"a stray character", `maximumSessions = 1 & playerSessionCount = 2`, 21, "unexpected character"},
		{"a missing operator", `maximumSessions 10`, 17, "comparison operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := session.ParseFilter(tt.expr)
			var se *session.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseFilter(%q) = %v, want a SyntaxError", tt.expr, err)
			}
			if se.Pos != tt.pos || !strings.Contains(se.Msg, tt.mention) {
				t.Fatalf("error %q at %d, want position %d mentioning %q", se.Msg, se.Pos, tt.pos, tt.mention)
			}
		})
	}
}

func TestSortExpressions(t *testing.T) {
	a := session.Row{Name: "a", MaximumSessions: 2, Properties: map[string]string{"rank": "gold"}}
	b := session.Row{Name: "b", MaximumSessions: 5, Properties: map[string]string{}}
	t.Run("ASC and DESC order numbers", func(t *testing.T) {
		asc, _ := session.ParseSort("maximumSessions ASC")
		desc, _ := session.ParseSort("maximumSessions desc")
		if !asc.Less(&a, &b) || !desc.Less(&b, &a) {
			t.Fatal("wrong order")
		}
	})
	t.Run("rows without the property go last either way", func(t *testing.T) {
		for _, expr := range []string{"gameSessionProperties.rank ASC", "gameSessionProperties.rank DESC"} {
			s, _ := session.ParseSort(expr)
			if !s.Less(&a, &b) || s.Less(&b, &a) {
				t.Fatalf("%s: the row without rank is not last", expr)
			}
		}
	})
	for expr, pos := range map[string]int{"": 1, "maximumSessions": 16, "maximumSessions UP": 17, "nope ASC": 1, "maximumSessions ASC, gameSessionName DESC": 20} {
		t.Run("refuses "+expr, func(t *testing.T) {
			_, err := session.ParseSort(expr)
			var se *session.SyntaxError
			if !errors.As(err, &se) || se.Pos != pos {
				t.Fatalf("ParseSort(%q) = %v, want a SyntaxError at %d", expr, err, pos)
			}
		})
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`gameSessionName = 'a'`, `maximumSessions>=10 AND hasAvailablePlayerSessions=true`,
		`NOT (playerSessionCount < 3 OR gameSessionProperties.mode <> "dm")`, `creationTimeMillis > 1e12`, `(((`, `'\'`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := session.ParseFilter(expr)
		if err != nil {
			var se *session.SyntaxError
			if !errors.As(err, &se) || se.Pos < 1 || se.Pos > len([]rune(expr))+1 {
				t.Fatalf("ParseFilter(%q): %v (position out of range)", expr, err)
			}
			return
		}
		flt.Match(&row)
		again, err := session.ParseFilter(flt.String())
		if err != nil || again.String() != flt.String() {
			t.Fatalf("%q renders as %q, which parses as %v, %v", expr, flt.String(), again, err)
		}
	})
}
