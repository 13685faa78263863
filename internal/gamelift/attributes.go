package gamelift

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/musterhq/muster/internal/fault"
)

// AttributeValue is GameLift's player attribute value (the API's
// AttributeValue): exactly one of S, N, SL and SDM is set. The player data
// table stores matchmaking attributes in this shape so the matchmaker can
// pass them to a ticket unchanged.
type AttributeValue struct {
	// S is a string of 1 to 100 characters.
	S *string `json:"S,omitempty"`
	// N is a double.
	N *float64 `json:"N,omitempty"`
	// SL is a list of strings, each 1 to 100 characters.
	SL []string `json:"SL,omitempty"`
	// SDM maps strings (1 to 100 characters) to doubles.
	SDM map[string]float64 `json:"SDM,omitempty"`
}

// Limits of an AttributeValue, as GameLift documents them for player
// attributes.
const (
	MaxAttributeStringLen = 100
	MaxAttributeListLen   = 100
	MaxAttributeMapLen    = 10
)

// Validate records every problem of a at path (for example
// "$.attributes.skill") in v.
func (a AttributeValue) Validate(path string, v *fault.Validator) {
	set := 0
	if a.S != nil {
		set++
	}
	if a.N != nil {
		set++
	}
	if a.SL != nil {
		set++
	}
	if a.SDM != nil {
		set++
	}
	if set != 1 {
		v.Add(path, "must have exactly one of S, N, SL and SDM, not %d", set)
		return
	}
	switch {
	case a.S != nil:
		if p := attributeStringProblem(*a.S); p != "" {
			v.Add(path+".S", "%s", p)
		}
	case a.N != nil:
		v.Check(!math.IsNaN(*a.N) && !math.IsInf(*a.N, 0), path+".N", "must be a finite number")
	case a.SL != nil:
		v.Check(len(a.SL) <= MaxAttributeListLen, path+".SL", "must have at most %d items", MaxAttributeListLen)
		for i, s := range a.SL {
			if p := attributeStringProblem(s); p != "" {
				v.Add(fmt.Sprintf("%s.SL[%d]", path, i), "%s", p)
			}
		}
	case a.SDM != nil:
		v.Check(len(a.SDM) <= MaxAttributeMapLen, path+".SDM", "must have at most %d entries", MaxAttributeMapLen)
		for k, n := range a.SDM {
			if p := attributeStringProblem(k); p != "" {
				v.Add(fmt.Sprintf("%s.SDM[%q]", path, k), "key %s", p)
			}
			v.Check(!math.IsNaN(n) && !math.IsInf(n, 0), fmt.Sprintf("%s.SDM[%q]", path, k), "must be a finite number")
		}
	}
}

func attributeStringProblem(s string) string {
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case n < 1 || n > MaxAttributeStringLen:
		return fmt.Sprintf("must be 1 to %d characters", MaxAttributeStringLen)
	}
	return ""
}
