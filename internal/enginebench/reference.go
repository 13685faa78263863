package enginebench

import (
	"cmp"
	"slices"
)

// SortAndCut returns how many values a sort-and-cut places: sorted
// ascending, a window of size consecutive values whose spread (last minus
// first) is at most maxDistance becomes a group and the cut moves past it;
// otherwise the lowest value is left behind. For one attribute and
// single-player tickets no grouping places more.
func SortAndCut(values []float64, size int, maxDistance float64) int {
	if size <= 0 {
		return 0
	}
	v := slices.Clone(values)
	slices.Sort(v)
	placed := 0
	for i := 0; i+size <= len(v); {
		if v[i+size-1]-v[i] <= maxDistance {
			placed += size
			i += size
			continue
		}
		i++
	}
	return placed
}

// sortAndCutByLocation is the reference under a latency rule: locations in
// order of how many tickets may play there, most first, each cutting the
// tickets still unplaced that may play there.
func sortAndCutByLocation(values []float64, eligible [][]bool, nloc, size int, maxDistance float64) int {
	count := make([]int, nloc)
	for _, el := range eligible {
		for l, ok := range el {
			if ok {
				count[l]++
			}
		}
	}
	order := make([]int, nloc)
	for l := range order {
		order[l] = l
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(count[b], count[a]) })
	type item struct {
		v float64
		i int
	}
	placedSet := make([]bool, len(values))
	placed := 0
	for _, l := range order {
		var its []item
		for i, v := range values {
			if !placedSet[i] && eligible[i][l] {
				its = append(its, item{v, i})
			}
		}
		slices.SortFunc(its, func(a, b item) int { return cmp.Compare(a.v, b.v) })
		for i := 0; i+size <= len(its); {
			if its[i+size-1].v-its[i].v <= maxDistance {
				for _, it := range its[i : i+size] {
					placedSet[it.i] = true
				}
				placed += size
				i += size
				continue
			}
			i++
		}
	}
	return placed
}
