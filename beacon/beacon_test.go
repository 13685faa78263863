package beacon_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/musterhq/muster/beacon"
	"github.com/musterhq/muster/internal/clock"
)

func startBeacon(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	s, err := beacon.Listen(ctx, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s.Addr().String()
}

func TestMeasureReturnsARoundTripTimeFromARealBeacon(t *testing.T) {
	addr := startBeacon(t)
	rtt, err := beacon.Measure(t.Context(), addr, 5)
	if err != nil {
		t.Fatal(err)
	}
	if rtt <= 0 || rtt > time.Second {
		t.Fatalf("round trip over loopback took %v", rtt)
	}
	samples, err := beacon.Pinger{}.Samples(t.Context(), addr, 3)
	if err != nil || len(samples) != 3 {
		t.Fatalf("Samples = %v, %v; want 3 samples", samples, err)
	}
}

func TestBeaconAnswersOnlyValidPings(t *testing.T) {
	addr := startBeacon(t)
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ping := beacon.Message{Type: beacon.TypePing, Nonce: 0x0102030405060708}.Append(nil)
	pong := beacon.Message{Type: beacon.TypePong, Nonce: 0x0102030405060708}.Append(nil)
	tests := []struct {
		name  string
		send  []byte
		reply []byte // nil: no reply expected
	}{
		{"a ping is answered by a pong with the same nonce", ping, pong},
		{"a ping with trailing bytes is answered by a plain pong", append(append([]byte(nil), ping...), 0xff, 0xff), pong},
		{"a pong is never answered", pong, nil},
		{"a short datagram is ignored", ping[:10], nil},
		{"another magic is ignored", append([]byte("XSTR"), ping[4:]...), nil},
		{"another version is ignored", append(append([]byte("MSTR"), 2), ping[5:]...), nil},
	}
	buf := make([]byte, 64)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := conn.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			// A trailing valid ping proves the beacon processed tc.send:
			// datagrams on one socket are answered in order.
			marker := beacon.Message{Type: beacon.TypePing, Nonce: 42}.Append(nil)
			if _, err := conn.Write(marker); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			if tc.reply != nil {
				if !bytes.Equal(buf[:n], tc.reply) {
					t.Fatalf("reply % x, want % x", buf[:n], tc.reply)
				}
				if n, err = conn.Read(buf); err != nil {
					t.Fatal(err)
				}
			}
			m, err := beacon.Parse(buf[:n])
			if err != nil || m.Type != beacon.TypePong || m.Nonce != 42 {
				t.Fatalf("expected only the marker's pong, got % x", buf[:n])
			}
		})
	}
}

func TestMeasureFailsWhenNothingAnswers(t *testing.T) {
	// A bound socket that never answers: pings are lost, not refused.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	fake := clock.NewFake(time.Unix(0, 0))
	p := beacon.Pinger{Clock: fake, Timeout: time.Second}
	done := make(chan error, 1)
	go func() {
		_, err := p.Measure(t.Context(), silent.LocalAddr().String(), 2)
		done <- err
	}()
	for range 2 { // each ping waits for its timer; expire it
		fake.WaitForTimers(1)
		fake.Advance(time.Second)
	}
	if err := <-done; err == nil {
		t.Fatal("Measure succeeded with no beacon answering")
	}
}

func TestMeasureStopsWhenTheContextEnds(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ctx, cancel := context.WithCancel(t.Context())
	fake := clock.NewFake(time.Unix(0, 0))
	done := make(chan error, 1)
	go func() {
		_, err := beacon.Pinger{Clock: fake}.Measure(ctx, silent.LocalAddr().String(), 3)
		done <- err
	}()
	fake.WaitForTimers(1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Measure = %v, want context.Canceled", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(beacon.Message{Type: beacon.TypePing, Nonce: 7}.Append(nil))
	f.Add([]byte("MSTR"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := beacon.Parse(b)
		if err != nil {
			return
		}
		if got := m.Append(nil); !bytes.Equal(got, b[:beacon.Size]) {
			t.Fatalf("round trip: % x != % x", got, b[:beacon.Size])
		}
	})
}

// BenchmarkRoundTrip measures one ping/pong over loopback through a real
// beacon: ns/op is the round-trip time as Measure sees it.
func BenchmarkRoundTrip(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := beacon.Listen(ctx, "127.0.0.1:0", nil)
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(ctx)
	p := beacon.Pinger{}
	addr := s.Addr().String()
	for b.Loop() {
		if _, err := p.Samples(ctx, addr, 1); err != nil {
			b.Fatal(err)
		}
	}
}
