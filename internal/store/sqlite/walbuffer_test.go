package sqlite

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ncruces/go-sqlite3/vfs"
)

// recordedFile is a real file that records the calls the WAL wrapper makes
// on it, and can be told to fail its next write.
type recordedFile struct {
	*os.File
	calls     []string
	failWrite error
}

func (f *recordedFile) WriteAt(p []byte, off int64) (int, error) {
	f.calls = append(f.calls, "write")
	if err := f.failWrite; err != nil {
		f.failWrite = nil
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *recordedFile) Sync(vfs.SyncFlag) error {
	f.calls = append(f.calls, "sync")
	return f.File.Sync()
}

func (f *recordedFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (f *recordedFile) Lock(vfs.LockLevel) error                        { return nil }
func (f *recordedFile) Unlock(vfs.LockLevel) error                      { return nil }
func (f *recordedFile) CheckReservedLock() (bool, error)                { return false, nil }
func (f *recordedFile) SectorSize() int                                 { return 4096 }
func (f *recordedFile) DeviceCharacteristics() vfs.DeviceCharacteristic { return 0 }

func newGatheredWAL(t *testing.T) (*gatheredWAL, *recordedFile) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "muster.db-wal"))
	if err != nil {
		t.Fatal(err)
	}
	base := &recordedFile{File: f}
	w := &gatheredWAL{File: base}
	t.Cleanup(func() { w.Close() })
	return w, base
}

func mustWrite(t *testing.T, w *gatheredWAL, s string, off int64) {
	t.Helper()
	if n, err := w.WriteAt([]byte(s), off); err != nil || n != len(s) {
		t.Fatalf("WriteAt(%q, %d) = %d, %v", s, off, n, err)
	}
}

func fileBytes(t *testing.T, f *recordedFile) []byte {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestACommitsFramesAreWrittenInOneCall: a frame header and its page, and
// the next frame, reach the file as one write, before the sync.
func TestACommitsFramesAreWrittenInOneCall(t *testing.T) {
	w, base := newGatheredWAL(t)
	mustWrite(t, w, "hdr1", 0)
	mustWrite(t, w, "page1", 4)
	mustWrite(t, w, "hdr2", 9)
	mustWrite(t, w, "page2", 13)
	if len(base.calls) != 0 {
		t.Fatalf("the file saw %v before the sync; want nothing", base.calls)
	}
	if err := w.Sync(vfs.SYNC_FULL); err != nil {
		t.Fatal(err)
	}
	if want := []string{"write", "sync"}; !slices.Equal(base.calls, want) {
		t.Fatalf("calls = %v, want %v", base.calls, want)
	}
	if got := fileBytes(t, base); string(got) != "hdr1page1hdr2page2" {
		t.Fatalf("file = %q", got)
	}
}

// TestTheFileIsAlwaysWhatWasWritten: reads, sizes, writes elsewhere,
// truncation and close each see the file as if every write had gone
// straight to it, in order.
func TestTheFileIsAlwaysWhatWasWritten(t *testing.T) {
	w, base := newGatheredWAL(t)
	mustWrite(t, w, "aaaa", 0)
	mustWrite(t, w, "bbbb", 4)

	got := make([]byte, 8)
	if _, err := w.ReadAt(got, 0); err != nil || string(got) != "aaaabbbb" {
		t.Fatalf("ReadAt = %q, %v; want the gathered bytes", got, err)
	}
	mustWrite(t, w, "cccc", 8)
	if n, err := w.Size(); err != nil || n != 12 {
		t.Fatalf("Size = %d, %v; want 12", n, err)
	}

	// A frame rewritten in place lands after the bytes gathered before it.
	mustWrite(t, w, "dddd", 12)
	mustWrite(t, w, "XX", 2)
	mustWrite(t, w, "eeee", 16)
	if err := w.Truncate(18); err != nil {
		t.Fatal(err)
	}
	if got := fileBytes(t, base); string(got) != "aaXXbbbbccccddddee" {
		t.Fatalf("after truncation the file = %q", got)
	}

	mustWrite(t, w, "ffff", 18)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fileBytes(t, base); string(got) != "aaXXbbbbccccddddeeffff" {
		t.Fatalf("after close the file = %q", got)
	}
}

// TestAFailedWriteFailsTheSync: the error of writing gathered bytes out is
// the sync's, so SQLite fails the commit instead of publishing it.
func TestAFailedWriteFailsTheSync(t *testing.T) {
	w, base := newGatheredWAL(t)
	full := errors.New("no space left on device")
	mustWrite(t, w, "frame", 0)
	base.failWrite = full
	if err := w.Sync(vfs.SYNC_FULL); !errors.Is(err, full) {
		t.Fatalf("Sync = %v, want %v", err, full)
	}
	if slices.Contains(base.calls, "sync") {
		t.Fatalf("calls = %v: the file was synced after its write failed", base.calls)
	}
	mustWrite(t, w, "again", 0)
	if err := w.Sync(vfs.SYNC_FULL); err != nil {
		t.Fatal(err)
	}
	if got := fileBytes(t, base); !bytes.Equal(got, []byte("again")) {
		t.Fatalf("file = %q", got)
	}
}

// TestLargeWritesStream: past maxGatheredWAL the gathered bytes are written
// out, and a write that alone exceeds it goes straight to the file.
func TestLargeWritesStream(t *testing.T) {
	w, base := newGatheredWAL(t)
	page := bytes.Repeat([]byte{'p'}, 4096)
	var off int64
	for off < maxGatheredWAL+int64(len(page)) {
		mustWrite(t, w, string(page), off)
		off += int64(len(page))
	}
	if len(base.calls) != 1 {
		t.Fatalf("calls = %v after %d bytes; want one write of the first %d", base.calls, off, maxGatheredWAL)
	}
	big := bytes.Repeat([]byte{'b'}, maxGatheredWAL)
	mustWrite(t, w, string(big), off)
	if err := w.Sync(vfs.SYNC_FULL); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Size(); err != nil || n != off+int64(len(big)) {
		t.Fatalf("Size = %d, %v; want %d", n, err, off+int64(len(big)))
	}
}
