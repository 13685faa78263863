//go:build !unix

package backend

import (
	"fmt"
	"os"
)

// lockFile on systems without flock creates the lock file exclusively; a
// lock left by a crashed server must then be removed by hand, which the
// error says.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if os.IsExist(err) {
			return nil, fmt.Errorf("the SQLite store is in use by another muster serve (%s exists; remove it if no server is running)", path)
		}
		return nil, fmt.Errorf("store lock: %w", err)
	}
	return func() {
		f.Close()
		os.Remove(path)
	}, nil
}
