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

func (s *slab) ticket() *wticket {
	if len(s.t) == 0 {
		s.t = make([]wticket, ticketBlock)
	}
	t := &s.t[0]
	s.t = s.t[1:]
	return t
}

func (s *slab) net() *netInfo {
	if len(s.n) == 0 {
		s.n = make([]netInfo, slabBlock)
	}
	n := &s.n[0]
	s.n = s.n[1:]
	return n
}

func (s *slab) players(n int) []wplayer {
	if n > slabBlock/4 {
		return make([]wplayer, n)
	}
	if len(s.p) < n {
		s.p = make([]wplayer, slabBlock)
	}
	out := s.p[:n:n]
	s.p = s.p[n:]
	return out
}

func (s *slab) attrs(n int) []attrVal {
	if n > slabBlock/4 {
		return make([]attrVal, n)
	}
	if len(s.a) < n {
		s.a = make([]attrVal, slabBlock)
	}
	out := s.a[:n:n]
	s.a = s.a[n:]
	return out
}

func (s *slab) locs(n int) []locMs {
	if n > slabBlock/4 {
		return make([]locMs, n)
	}
	if len(s.l) < n {
		s.l = make([]locMs, slabBlock*4)
	}
	out := s.l[:n:n]
	s.l = s.l[n:]
	return out
}

func (s *slab) floats(n int) []float32 {
	if n > slabBlock/4 {
		return make([]float32, n)
	}
	if len(s.f) < n {
		s.f = make([]float32, slabBlock*4)
	}
	out := s.f[:n:n]
	s.f = s.f[n:]
	return out
}

func (s *slab) lats(n int) [][]locMs {
	if n > slabBlock/4 {
		return make([][]locMs, n)
	}
	if len(s.h) < n {
		s.h = make([][]locMs, slabBlock)
	}
	out := s.h[:n:n]
	s.h = s.h[n:]
	return out
}

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

func (o *outSlab) teams(n int) []MatchTeam {
	if n > outBlock/8 {
		return make([]MatchTeam, n)
	}
	if len(o.t) < n {
		o.t = make([]MatchTeam, outBlock)
	}
	out := o.t[:n:n]
	o.t = o.t[n:]
	return out
}

func (o *outSlab) ids(n int) []string {
	if n > outBlock/4 {
		return make([]string, n)
	}
	if len(o.s) < n {
		o.s = make([]string, outBlock*4)
	}
	out := o.s[:n:n]
	o.s = o.s[n:]
	return out
}

func (o *outSlab) locs(n int) []MatchLocation {
	if n > outBlock/8 {
		return make([]MatchLocation, n)
	}
	if len(o.l) < n {
		o.l = make([]MatchLocation, outBlock)
	}
	out := o.l[:n:n]
	o.l = o.l[n:]
	return out
}
