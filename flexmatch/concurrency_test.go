//go:build unix

package flexmatch_test

import (
	"sync"
	"testing"

	"github.com/musterhq/muster/flexmatch"
)

// A RuleSet is immutable: engines built from one rule set in parallel
// goroutines must not race (run with -race).
func TestRuleSetIsSharedSafelyByEngines(t *testing.T) {
	rs := mustParse(t, benchFiveOnFive)
	var wg sync.WaitGroup
	results := make([]int, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := flexmatch.NewEngine(rs, flexmatch.Options{})
			for i := range 10 {
				_ = e.Add(solo(string(rune('a'+i)), 0, 1500+float64(i), map[string]int{"eu": 50}))
			}
			results[g] = len(e.Cycle(at(1)))
		}()
	}
	wg.Wait()
	for g, n := range results {
		if n != 1 {
			t.Fatalf("engine %d formed %d matches, want 1", g, n)
		}
	}
}
