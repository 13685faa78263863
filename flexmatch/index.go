package flexmatch

// chunkMax entries and the one an insertion adds before the split fill a
// 16 KiB allocation (a size class) exactly.
const chunkMax = 255

// index keeps tickets ordered by (key, seq) in chunks so that insertion and
// removal cost O(log n + chunk size) and neighbours are cheap to walk. Each
// entry carries what scans need (key, start, sequence, reachable locations,
// party size) inline, so scans and searches read contiguous memory instead of
// chasing ticket pointers; last mirrors each chunk's last entry so the chunk
// search touches one array.
type index struct {
	chunks [][]entry
	last   []entry
	n      int
	tab    *table
}

// entry holds no pointers: moving entries costs no write barriers and the
// garbage collector never scans the chunks. id names the ticket in the
// engine's table.
type entry struct {
	key   float64
	sub   float64 // orders entries of equal key (sorted batching)
	start int64
	seq   uint64
	reach bits
	id    uint32
	n     int32  // players
	cycle uint32 // the cycle in which the ticket arrived
}

func entryOf(t *wticket) entry {
	return entry{key: t.key, sub: t.sub, start: t.start, seq: t.seq, reach: t.reach, id: t.slot, n: int32(len(t.players)), cycle: t.cycle}
}

// table maps ticket slots to tickets, reusing freed slots.
type table struct {
	ts   []*wticket
	free []uint32
}

func (tb *table) put(t *wticket) {
	if n := len(tb.free); n > 0 {
		t.slot = tb.free[n-1]
		tb.free = tb.free[:n-1]
		tb.ts[t.slot] = t
		return
	}
	t.slot = uint32(len(tb.ts))
	tb.ts = append(tb.ts, t)
}

func (tb *table) release(t *wticket) {
	tb.ts[t.slot] = nil
	tb.free = append(tb.free, t.slot)
}

func less(a, b *entry) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	if a.sub != b.sub {
		return a.sub < b.sub
	}
	return a.seq < b.seq
}

// find returns the chunk that holds t or where it belongs.
func (x *index) find(t *entry) int {
	lo, hi := 0, len(x.last)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if less(&x.last[m], t) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(x.last) && lo > 0 {
		lo--
	}
	return lo
}

// pos returns the first position in c not less than t.
func pos(c []entry, t *entry) int {
	lo, hi := 0, len(c)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if less(&c[m], t) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (x *index) insert(wt *wticket) {
	x.n++
	t := entryOf(wt)
	if len(x.chunks) == 0 {
		c := make([]entry, 1, 16)
		c[0] = t
		x.chunks = append(x.chunks, c)
		x.last = append(x.last, t)
		return
	}
	ci := x.find(&t)
	c := x.chunks[ci]
	j := pos(c, &t)
	c = append(c, entry{})
	copy(c[j+1:], c[j:])
	c[j] = t
	if len(c) > chunkMax {
		h := len(c) / 2
		right := make([]entry, len(c)-h, chunkMax+1)
		copy(right, c[h:])
		clear(c[h:])
		c = c[:h]
		x.chunks = append(x.chunks, nil)
		copy(x.chunks[ci+2:], x.chunks[ci+1:])
		x.chunks[ci+1] = right
		x.last = append(x.last, entry{})
		copy(x.last[ci+2:], x.last[ci+1:])
		x.last[ci+1] = right[len(right)-1]
	}
	x.chunks[ci] = c
	x.last[ci] = c[len(c)-1]
}

// locate returns the position of t, or ok=false if it is not indexed.
func (x *index) locate(wt *wticket) (ci, j int, ok bool) {
	if len(x.chunks) == 0 {
		return 0, 0, false
	}
	t := entry{key: wt.key, sub: wt.sub, seq: wt.seq}
	ci = x.find(&t)
	c := x.chunks[ci]
	j = pos(c, &t)
	return ci, j, j < len(c) && c[j].id == wt.slot && x.tab.ts[wt.slot] == wt
}

func (x *index) remove(t *wticket) bool {
	ci, j, ok := x.locate(t)
	if !ok {
		return false
	}
	x.n--
	c := x.chunks[ci]
	copy(c[j:], c[j+1:])
	c[len(c)-1] = entry{}
	c = c[:len(c)-1]
	if len(c) == 0 {
		x.chunks = append(x.chunks[:ci], x.chunks[ci+1:]...)
		x.last = append(x.last[:ci], x.last[ci+1:]...)
		return true
	}
	x.chunks[ci] = c
	x.last[ci] = c[len(c)-1]
	return true
}

// cursor walks the index one way from a position.
type cursor struct {
	x     *index
	ci, j int
	dir   int
	done  bool
}

func (c *cursor) next() *entry {
	if c.x == nil {
		return nil // the zero cursor walks an empty index
	}
	for !c.done {
		if c.ci < 0 || c.ci >= len(c.x.chunks) {
			c.done = true
			return nil
		}
		ch := c.x.chunks[c.ci]
		if c.j < 0 {
			c.ci--
			if c.ci >= 0 {
				c.j = len(c.x.chunks[c.ci]) - 1
			}
			continue
		}
		if c.j >= len(ch) {
			c.ci++
			c.j = 0
			continue
		}
		t := &ch[c.j]
		c.j += c.dir
		return t
	}
	return nil
}

// at returns cursors walking left and right of position (ci, j), which is
// excluded.
func (x *index) at(ci, j int) (left, right cursor) {
	return cursor{x: x, ci: ci, j: j - 1, dir: -1}, cursor{x: x, ci: ci, j: j + 1, dir: 1}
}

// aroundKey returns cursors walking left and right of a key and sub.
func (x *index) aroundKey(key, sub float64) (left, right cursor) {
	probe := entry{key: key, sub: sub}
	if len(x.chunks) == 0 {
		return cursor{x: x, done: true}, cursor{x: x, done: true}
	}
	ci := x.find(&probe)
	j := pos(x.chunks[ci], &probe)
	return cursor{x: x, ci: ci, j: j - 1, dir: -1}, cursor{x: x, ci: ci, j: j, dir: 1}
}

// each calls f for every ticket in order.
func (x *index) each(f func(*wticket)) {
	for _, c := range x.chunks {
		for _, t := range c {
			f(x.tab.ts[t.id])
		}
	}
}
