package flexmatch

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a rule set: where (a JSON path such as
// "rules[2].maxDistance", or "$" for the whole body) and why.
type Problem struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// String formats the problem as "PATH: reason".
func (p Problem) String() string { return p.Path + ": " + p.Reason }

// ValidationError lists every problem Parse found in a rule set.
type ValidationError struct {
	Problems []Problem
}

// Error joins all problems with "; " so that the list reads as one message.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid rule set: " + strings.Join(parts, "; ")
}

// problems collects problems while parsing.
type problems struct {
	list     []Problem
	warnings []Problem
}

func (ps *problems) add(path, format string, args ...any) {
	ps.list = append(ps.list, Problem{Path: path, Reason: fmt.Sprintf(format, args...)})
}

func (ps *problems) warn(path, format string, args ...any) {
	ps.warnings = append(ps.warnings, Problem{Path: path, Reason: fmt.Sprintf(format, args...)})
}

// suggest returns `; did you mean "X"?` when a candidate is close to name.
func suggest(name string, candidates []string) string {
	// Bound the work so that a body full of misspellings parses in linear
	// time: suggestions come from the first 64 candidates only.
	if len(candidates) > 64 {
		candidates = candidates[:64]
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" && (bestD <= 2 || bestD <= len(name)/3) {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	// Abbreviations and truncations: "avg" for "average", "exhaustive" for
	// "exhaustiveSearch".
	for _, c := range candidates {
		a, b := strings.ToLower(name), strings.ToLower(c)
		if len(a) >= 3 && len(b) >= 3 && (subsequence(a, b) || subsequence(b, a)) {
			return fmt.Sprintf("; did you mean %q?", c)
		}
	}
	return ""
}

// subsequence reports whether short's letters appear in long in order,
// starting with the same letter.
func subsequence(short, long string) bool {
	if len(short) > len(long) || short[0] != long[0] {
		return false
	}
	i := 0
	for j := 0; j < len(long) && i < len(short); j++ {
		if short[i] == long[j] {
			i++
		}
	}
	return i == len(short)
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 1 << 20
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
