package bus_test

import (
	"context"
	"testing"

	"github.com/musterhq/muster/internal/bus"
)

func TestLocal(t *testing.T) {
	var b bus.Local
	var got []string
	cancel := b.Subscribe("t", func(p string) { got = append(got, p) })
	b.Subscribe("other", func(p string) { t.Errorf("a subscriber of another topic got %q", p) })
	b.Publish(context.Background(), "t", "1")
	cancel()
	b.Publish(context.Background(), "t", "2")
	if len(got) != 1 || got[0] != "1" {
		t.Fatalf("got %v, want [1]: a cancelled subscriber hears nothing more", got)
	}
}
