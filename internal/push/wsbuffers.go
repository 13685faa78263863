package push

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
)

// The buffers of a player's WebSocket once hijacked. net/http hands a
// hijacked connection 4 KiB read and write buffers, which a socket keeps
// for its whole life: 8 KiB of every idle socket, the largest part of its
// memory. A socket reads small client messages (auth, resume) and writes
// messages of about a kilobyte, so smaller buffers cost a rare extra
// system call on a large message and save most of that memory.
const (
	wsReadBuffer  = 512
	wsWriteBuffer = 1024
)

// smallBuffers is a ResponseWriter whose Hijack (which websocket.Accept
// calls) returns the connection with wsReadBuffer and wsWriteBuffer
// buffers instead of net/http's, keeping the bytes net/http had already
// read.
type smallBuffers struct{ http.ResponseWriter }

// Unwrap lets http.ResponseController reach the writer underneath.
func (s smallBuffers) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hijacks the connection underneath and swaps its buffers.
func (s smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	// The bytes net/http has read ahead (a client may send its first
	// message at once) must be in the new reader's buffer, not behind it:
	// websocket.Accept keeps what is buffered and reads the rest from the
	// connection itself.
	n := brw.Reader.Buffered()
	ahead, _ := brw.Reader.Peek(n)
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(ahead)), conn), max(wsReadBuffer, n))
	if n > 0 {
		if _, err := br.Peek(n); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, wsWriteBuffer)), nil
}
