package main

import "testing"

func TestGCPercentGivesTheHeapItsHeadroom(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 400},          // before the first collection
		{3 * mib, 400},    // an idle server keeps GOGC=400
		{8 * mib, 400},    // 32 MiB of headroom is 400 %
		{16 * mib, 200},   // still 32 MiB of headroom
		{32 * mib, 100},   // from here the heap may double
		{1024 * mib, 100}, // never below Go's default
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", c.live/mib, got, c.want)
		}
	}
}
