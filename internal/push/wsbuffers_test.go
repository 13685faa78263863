package push_test

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A client that sends its auth message in the same packet as its upgrade
// request (net/http has read it ahead by the time the socket is taken
// over) is authenticated: the bytes read ahead are not lost.
func TestAnAuthMessageSentWithTheUpgradeRequestIsRead(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signIn()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second)) // a safety net for a hung test
	payload, _ := json.Marshal(map[string]string{"type": "auth", "accessToken": a.AccessToken})
	req := "GET /v1/ws HTTP/1.1\r\nHost: " + conn.RemoteAddr().String() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := conn.Write(append([]byte(req), maskedText(payload)...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v, %v", resp, err)
	}
	var head [2]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		t.Fatal(err)
	}
	n := int(head[1] & 0x7f)
	if n == 126 {
		var ext [2]byte
		io.ReadFull(br, ext[:])
		n = int(binary.BigEndian.Uint16(ext[:]))
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(br, msg); err != nil {
		t.Fatal(err)
	}
	if head[0]&0x0f != 1 || !strings.Contains(string(msg), `"authenticated"`) || !strings.Contains(string(msg), a.IdentityID) {
		t.Fatalf("first frame %x %s, want the authenticated message", head, msg)
	}
}

// maskedText is one client text frame (RFC 6455 §5.2) of p, shorter than
// 64 KiB.
func maskedText(p []byte) []byte {
	f := []byte{0x81}
	if len(p) < 126 {
		f = append(f, 0x80|byte(len(p)))
	} else {
		f = append(f, 0x80|126, byte(len(p)>>8), byte(len(p)))
	}
	key := [4]byte{1, 2, 3, 4}
	f = append(f, key[:]...)
	for i, b := range p {
		f = append(f, b^key[i%4])
	}
	return f
}
