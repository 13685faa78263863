package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// The collector's setting, unless the environment sets GOGC.
//
// Muster's live heap is small next to what it allocates per request, so
// at Go's default (GOGC=100) the collector ran after every few megabytes
// and took a large share of the CPU under load; GOGC=400 lifted
// ListLocations at concurrency 64 from ~9k to ~12.7k calls/s. But a fixed
// 400 lets the heap grow to five times the live heap, and the live heap
// is not always small: with 50,000 matchmaking tickets waiting (about
// 50 MB live) the process held 3.8 KiB of RSS per ticket. So the heap may
// grow by gcHeadroom or by the live heap, whichever is larger: GOGC=400
// while the live heap is under 8 MiB (an idle server holds about 3 MiB),
// falling to 100 at 32 MiB and beyond. The cost is more collections per
// allocated byte once the live heap passes 8 MiB: at most four times as
// many as GOGC=400, each marking the same live heap. GOMEMLIMIT in the
// environment still caps the heap as Go documents.
const gcHeadroom = 32 << 20

// gcPercent is the GOGC that gives a live heap of live bytes its headroom.
func gcPercent(live uint64) int {
	if live == 0 {
		return 400
	}
	return int(min(400, max(100, gcHeadroom*100/live)))
}

// tuneGC sets the collector from the live heap after every collection,
// unless the environment sets GOGC.
func tuneGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	t := &gcTuner{percent: 400, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	debug.SetGCPercent(t.percent)
	t.arm()
}

type gcTuner struct {
	percent int
	sample  []metrics.Sample
}

// arm has the next collection call tune: a cleanup runs once the object
// it watches is collected, which the first collection after arm does.
func (t *gcTuner) arm() {
	runtime.AddCleanup(&gcSentinel{}, func(t *gcTuner) { t.tune() }, t)
}

// gcSentinel holds a pointer so that it is never a tiny allocation, whose
// cleanups may never run.
type gcSentinel struct{ _ *int }

func (t *gcTuner) tune() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		// Only a change of a tenth or more: a live heap that wobbles
		// around a boundary does not reset the collector every cycle.
		if p := gcPercent(t.sample[0].Value.Uint64()); p*10 < t.percent*9 || p*10 > t.percent*11 {
			t.percent = p
			debug.SetGCPercent(p)
		}
	}
	t.arm()
}
