//go:build unix

package backend

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockFile takes an exclusive lock on path for as long as this process
// holds it (the kernel drops it when the process dies, so a crash leaves no
// stale lock) and records this process's id in it for the error message.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := strings.TrimSpace(string(b))
			return nil, fmt.Errorf("the SQLite store %s is in use by another muster serve (pid %s): one server per SQLite file; run several replicas on PostgreSQL (--store postgres://…)", strings.TrimSuffix(path, ".lock"), holder)
		}
		return nil, fmt.Errorf("store lock: %w", err)
	}
	f.Truncate(0)
	f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
