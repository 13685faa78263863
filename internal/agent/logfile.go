package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Defaults of the per-process log files.
const (
	DefaultLogMaxBytes = 10 << 20
	DefaultLogKeep     = 3
)

// rotatingFile is an io.WriteCloser over path that, when a write would take
// the file past maxBytes, renames path to path.1 (path.1 to path.2, …,
// keeping keep old files) and starts a new path. It is safe for concurrent
// use (stdout and stderr of one process share it).
type rotatingFile struct {
	path     string
	maxBytes int64
	keep     int

	mu     sync.Mutex
	f      *os.File
	size   int64
	closed bool
}

func openRotating(path string, maxBytes int64, keep int) (*rotatingFile, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultLogMaxBytes
	}
	if keep < 0 {
		keep = 0
	}
	r := &rotatingFile{path: path, maxBytes: maxBytes, keep: keep}
	if err := r.openLocked(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotatingFile) openLocked() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log %s: %w", r.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log %s: %w", r.path, err)
	}
	r.f, r.size = f, st.Size()
	return nil
}

// Write writes p, rotating whenever the current file is full, so no file
// grows past maxBytes. A chunk that does not fit is cut after its last
// newline that fits; a line longer than what is left starts a new file, and
// only a line longer than maxBytes is itself cut.
//
// A log that cannot be written never fails the write: os/exec copies a
// process's output to it through a pipe and closes the pipe on the first
// error, and the process then dies of SIGPIPE at its next line. So a write
// the disk refuses (full, failing) is dropped, and a rotation that fails (a
// log shipper holding the file on Windows) goes on in the same file, trying
// again after another maxBytes.
func (r *rotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, os.ErrClosed
	}
	total := len(p)
	for len(p) > 0 {
		room := r.maxBytes - r.size
		chunk := p
		if int64(len(chunk)) > room {
			chunk = p[:max(room, 0)]
			if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
				chunk = chunk[:i+1]
			} else if r.size > 0 {
				chunk = nil
			}
		}
		if len(chunk) == 0 {
			if err := r.rotateLocked(); err != nil {
				if r.f == nil && r.openLocked() != nil {
					return total, nil // no file to write to: dropped
				}
				r.size = 0 // past maxBytes, until the next try
			}
			continue
		}
		n, err := r.f.Write(chunk)
		r.size += int64(n)
		if err != nil {
			return total, nil // dropped: see above
		}
		p = p[n:]
	}
	return total, nil
}

func (r *rotatingFile) rotateLocked() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("rotate log %s: %w", r.path, err)
	}
	r.f = nil
	if r.keep == 0 {
		if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate log %s: %w", r.path, err)
		}
		return r.openLocked()
	}
	_ = os.Remove(fmt.Sprintf("%s.%d", r.path, r.keep))
	for i := r.keep - 1; i >= 1; i-- {
		if err := os.Rename(fmt.Sprintf("%s.%d", r.path, i), fmt.Sprintf("%s.%d", r.path, i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate log %s: %w", r.path, err)
		}
	}
	if err := os.Rename(r.path, r.path+".1"); err != nil {
		return fmt.Errorf("rotate log %s: %w", r.path, err)
	}
	return r.openLocked()
}

// Close closes the current file.
func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// OpenLogFile opens path for the agent's own log (muster agent
// --log-file), rotated as the processes' logs are: at maxBytes, keeping
// keep old files. A log nobody rotates grows for as long as the host runs.
func OpenLogFile(path string, maxBytes int64, keep int) (io.WriteCloser, error) {
	return openRotating(path, maxBytes, keep)
}
