package flexmatch

import (
	"encoding/binary"
	"math"
	"slices"
)

// Under batchingPreference "sorted" the pool is pre-sorted by the
// sortByAttributes values, the first attribute first, and a batch is a
// contiguous slice of that order (docs/flexmatch.md). The index orders
// its entries by (key, sub, seq), so the order it keeps is that sort:
//
//   - key holds the first sort attribute: its value when it is a number (the
//     engine's key attribute, unless a batchDistance or spread rule claimed
//     the key first), or a code from an order-preserving codebook when it is
//     a string or a string list (whose first element is sorted on);
//   - sub holds the remaining sort attributes (all of them when another rule
//     claimed the key): one number as it is, else a code of their encoded
//     tuple.
//
// An anchor's candidates are then its nearest neighbours in that order.
// A party sorts by its players' average for numbers and by its first
// player's value for strings.

// sortPlan says which attributes feed key and sub.
type sortPlan struct {
	keyStr int   // attribute coded into key, or -1
	sub    []int // attributes encoded into sub
	subNum bool  // sub is the single number attribute sub[0], uncoded
	keys   codebook
	subs   codebook
}

func (e *Engine) planSort() {
	e.sort.keyStr = -1
	rs := e.rs
	if rs.algo.batching != "sorted" || rs.large || len(rs.algo.sortBy) == 0 {
		return
	}
	rest := rs.algo.sortBy
	switch first := rest[0]; {
	case e.keyAttr == first:
		rest = rest[1:]
	case e.keyAttr < 0 && rs.attrs[first].Type != AttrNumber:
		e.sort.keyStr = first
		rest = rest[1:]
	}
	e.sort.sub = rest
	e.sort.subNum = len(rest) == 1 && rs.attrs[rest[0]].Type == AttrNumber
}

// sortString is a ticket's string value of a sort attribute.
func sortString(t *wticket, ai int) string {
	v := t.players[0].attrs[ai]
	if v.sl != nil {
		if len(v.sl) == 0 {
			return ""
		}
		return v.sl[0]
	}
	return v.s
}

// subTuple encodes the ticket's sub attributes so that byte order is sort
// order: numbers as order-preserving big-endian bits, strings escaped and
// terminated so that a prefix sorts first.
func (e *Engine) subTuple(t *wticket, buf []byte) []byte {
	for _, ai := range e.sort.sub {
		if e.rs.attrs[ai].Type == AttrNumber {
			bits := math.Float64bits(partyNum(t, ai, aggAvg))
			if bits>>63 == 1 {
				bits = ^bits
			} else {
				bits |= 1 << 63
			}
			buf = binary.BigEndian.AppendUint64(buf, bits)
			continue
		}
		for _, b := range []byte(sortString(t, ai)) {
			buf = append(buf, b)
			if b == 0 {
				buf = append(buf, 0xff)
			}
		}
		buf = append(buf, 0, 1)
	}
	return buf
}

// sortCodes sets the ticket's sort key and sub from the codebooks as they
// are; values not in them get codes between their neighbours'.
func (e *Engine) sortCodes(t *wticket) {
	if e.sort.keyStr >= 0 {
		t.key = e.sort.keys.code(sortString(t, e.sort.keyStr))
	}
	switch {
	case len(e.sort.sub) == 0:
	case e.sort.subNum:
		t.sub = partyNum(t, e.sort.sub[0], aggAvg)
	default:
		e.tupleBuf = e.subTuple(t, e.tupleBuf[:0])
		t.sub = e.sort.subs.code(string(e.tupleBuf))
	}
}

// holdSortCodes enters a ticket joining the pool in the codebooks and sets
// its codes. When a codebook had to renumber, every waiting ticket is
// re-keyed and the indexes are rebuilt.
func (e *Engine) holdSortCodes(t *wticket) {
	renumbered := false
	if e.sort.keyStr >= 0 {
		renumbered = e.sort.keys.acquire(sortString(t, e.sort.keyStr))
	}
	if len(e.sort.sub) > 0 && !e.sort.subNum {
		e.tupleBuf = e.subTuple(t, e.tupleBuf[:0])
		renumbered = e.sort.subs.acquire(string(e.tupleBuf)) || renumbered
	}
	e.sortCodes(t)
	if renumbered {
		e.rekey()
	}
}

// releaseSortCodes takes a ticket leaving the pool out of the codebooks.
func (e *Engine) releaseSortCodes(t *wticket) {
	if e.sort.keyStr >= 0 {
		e.sort.keys.release(sortString(t, e.sort.keyStr))
	}
	if len(e.sort.sub) > 0 && !e.sort.subNum {
		e.tupleBuf = e.subTuple(t, e.tupleBuf[:0])
		e.sort.subs.release(string(e.tupleBuf))
	}
}

// rekey recomputes every indexed ticket's codes and rebuilds the indexes.
func (e *Engine) rekey() {
	for _, p := range e.partList {
		var ts []*wticket
		p.idx.each(func(t *wticket) { ts = append(ts, t) })
		p.idx = index{tab: &e.tab}
		for _, t := range ts {
			e.sortCodes(t)
			p.idx.insert(t)
		}
	}
}

// codebookGap is the distance between neighbouring codes after a
// renumbering; a new value takes the midpoint of its neighbours' codes, so
// about 50 values can arrive between the same two before one is needed.
const codebookGap = 1 << 20

// codebook gives strings float64 codes in their byte order, so that an index
// of float64 keys can keep strings sorted. It holds the distinct values in
// use, each with a reference count. Adding or removing a value costs a
// binary search and a copy of the larger slices' tails: sort attributes are
// expected to have few distinct values (leagues, ranks, regions).
type codebook struct {
	vals  []string
	codes []float64
	refs  []int32
}

// code returns v's code, or, for a value not held, a code strictly between
// those of its neighbours.
func (b *codebook) code(v string) float64 {
	i, ok := slices.BinarySearch(b.vals, v)
	if ok {
		return b.codes[i]
	}
	return b.between(i)
}

func (b *codebook) between(i int) float64 {
	switch {
	case len(b.vals) == 0:
		return 0
	case i == 0:
		return b.codes[0] - codebookGap
	case i == len(b.vals):
		return b.codes[i-1] + codebookGap
	}
	return b.codes[i-1] + (b.codes[i]-b.codes[i-1])/2
}

// acquire holds v; it reports whether every code had to change because no
// code was left between v's neighbours.
func (b *codebook) acquire(v string) (renumbered bool) {
	i, ok := slices.BinarySearch(b.vals, v)
	if ok {
		b.refs[i]++
		return false
	}
	c := b.between(i)
	b.vals = slices.Insert(b.vals, i, v)
	b.codes = slices.Insert(b.codes, i, c)
	b.refs = slices.Insert(b.refs, i, 1)
	if i > 0 && c <= b.codes[i-1] || i+1 < len(b.codes) && c >= b.codes[i+1] {
		for j := range b.codes {
			b.codes[j] = float64(j) * codebookGap
		}
		return true
	}
	return false
}

// release drops one hold on v, forgetting it with its last.
func (b *codebook) release(v string) {
	i, ok := slices.BinarySearch(b.vals, v)
	if !ok {
		return
	}
	if b.refs[i]--; b.refs[i] == 0 {
		b.vals = slices.Delete(b.vals, i, i+1)
		b.codes = slices.Delete(b.codes, i, i+1)
		b.refs = slices.Delete(b.refs, i, i+1)
	}
}
