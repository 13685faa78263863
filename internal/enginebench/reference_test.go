package enginebench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// best is the most values that disjoint groups of size values, each within
// maxDistance, can place: an exhaustive search.
func best(values []float64, size int, maxDistance float64) int {
	if len(values) < size {
		return 0
	}
	// The lowest value is either left out or grouped with size-1 others.
	rest := values[1:]
	out := best(rest, size, maxDistance)
	var pick func(from int, chosen []int)
	pick = func(from int, chosen []int) {
		if len(chosen) == size-1 {
			hi := values[0]
			for _, i := range chosen {
				hi = max(hi, rest[i])
			}
			if hi-values[0] > maxDistance {
				return
			}
			var left []float64
			for i, v := range rest {
				if !slices.Contains(chosen, i) {
					left = append(left, v)
				}
			}
			out = max(out, size+best(left, size, maxDistance))
			return
		}
		for i := from; i < len(rest); i++ {
			pick(i+1, append(chosen, i))
		}
	}
	pick(0, nil)
	return out
}

func TestSortAndCutPlacesTheMost(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		n, size := 1+rng.IntN(9), 1+rng.IntN(3)
		values := make([]float64, n)
		for i := range values {
			values[i] = float64(rng.IntN(30))
		}
		slices.Sort(values)
		if got, want := SortAndCut(values, size, 5), best(values, size, 5); got != want {
			t.Fatalf("SortAndCut(%v, %d, 5) = %d, an exhaustive search places %d", values, size, got, want)
		}
	}
}

func TestSortAndCut(t *testing.T) {
	for _, c := range []struct {
		values []float64
		size   int
		want   int
	}{
		{[]float64{0, 5, 12, 20}, 2, 4},
		{[]float64{0, 15, 18, 30}, 2, 2},
		{[]float64{0, 8, 11, 12, 19, 21}, 3, 3},
		{[]float64{3, 1, 2}, 3, 3},
		{nil, 2, 0},
	} {
		if got := SortAndCut(c.values, c.size, 10); got != c.want {
			t.Errorf("SortAndCut(%v, %d, 10) = %d, want %d", c.values, c.size, got, c.want)
		}
	}
}

func TestWorkloadsPass(t *testing.T) {
	for _, w := range Workloads {
		tickets := w.Tickets(2_000, 1, time.Unix(1_800_000_000, 0))
		if again := w.Tickets(2_000, 1, time.Unix(1_800_000_000, 0)); *again[7].Players[0].Attributes["skill"].N != *tickets[7].Players[0].Attributes["skill"].N {
			t.Fatalf("%s: the same seed made different tickets", w.Name)
		}
		r, err := w.Pass(tickets)
		if err != nil {
			t.Fatal(err)
		}
		if r.Placed == 0 || r.Placed%w.MatchSize != 0 || r.SpreadMax > w.MaxDistance {
			t.Errorf("%s: placed %d, largest spread %v", w.Name, r.Placed, r.SpreadMax)
		}
	}
	if _, err := Lookup("4v4"); err == nil {
		t.Error("an unknown workload was accepted")
	}
}

func TestHeapPerTicket(t *testing.T) {
	w, err := Lookup("5v5")
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.HeapPerTicket(5_000, 1)
	if err != nil {
		t.Fatal(err)
	}
	// A ticket holds at least its two IDs; the figure itself is reported by
	// muster bench engine, not asserted.
	if b < 16 {
		t.Errorf("%v bytes per ticket", b)
	}
}
