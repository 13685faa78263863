package flexmatch

import "unsafe"

// slab hands out ticket storage from large blocks, so that adding a ticket
// costs amortised zero allocations. A block stays alive while any ticket in
// it does; blocks are small enough that this wastes little.
type slab struct {
	n []netInfo
	f []float32
	h [][]locMs
	t []wticket
	p []wplayer
	a []attrVal
	l []locMs
}

const slabBlock = 256

// ticketBlock tickets fill a block of ten 4 KiB pages: blocks beyond 32 KiB
// are rounded up to whole pages, so a round count would waste the rest.
const ticketBlock = 40960 / int(unsafe.Sizeof(wticket{}))

func (s *slab) ticket() *wticket { return &cut(&s.t, 1, 1, ticketBlock)[0] }

func (s *slab) net() *netInfo { return &cut(&s.n, 1, 1, slabBlock)[0] }

// cut hands out n elements from the front of *block, capped so that an
// append cannot touch a neighbour. A request above limit gets its own slice;
// when the block runs short a fresh one of size elements replaces it.
func cut[T any](block *[]T, n, limit, size int) []T {
	if n > limit {
		return make([]T, n)
	}
	if len(*block) < n {
		*block = make([]T, size)
	}
	out := (*block)[:n:n]
	*block = (*block)[n:]
	return out
}

func (s *slab) players(n int) []wplayer { return cut(&s.p, n, slabBlock/4, slabBlock) }

func (s *slab) attrs(n int) []attrVal { return cut(&s.a, n, slabBlock/4, slabBlock) }

func (s *slab) locs(n int) []locMs { return cut(&s.l, n, slabBlock/4, slabBlock*4) }

func (s *slab) floats(n int) []float32 { return cut(&s.f, n, slabBlock/4, slabBlock*4) }

func (s *slab) lats(n int) [][]locMs { return cut(&s.h, n, slabBlock/4, slabBlock) }

// outSlab hands out the slices of returned matches from shared blocks so
// that forming a match allocates amortised nothing. Each slice is capped, so
// callers may append to it without touching a neighbour; a block stays alive
// while any match cut from it does.
type outSlab struct {
	t []MatchTeam
	s []string
	l []MatchLocation
}

const outBlock = 1024

func (o *outSlab) teams(n int) []MatchTeam { return cut(&o.t, n, outBlock/8, outBlock) }

func (o *outSlab) ids(n int) []string { return cut(&o.s, n, outBlock/4, outBlock*4) }

func (o *outSlab) locs(n int) []MatchLocation { return cut(&o.l, n, outBlock/8, outBlock) }
