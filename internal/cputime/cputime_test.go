//go:build unix

package cputime_test

import (
	"testing"

	"github.com/musterhq/muster/internal/cputime"
)

func TestProcessCPUTimeGrowsWithWork(t *testing.T) {
	before, ok := cputime.Process()
	if !ok {
		t.Fatal("no CPU time on a unix system")
	}
	after := before
	for n := 0; after == before; n++ {
		for i := range 1_000_000 {
			n += i % 7
		}
		after, _ = cputime.Process()
	}
	if after < before {
		t.Fatalf("CPU time went back from %v to %v", before, after)
	}
}
