//go:build unix

package vulndb

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockDir serialises imports of one database: two imports at once would
// each build on the same old file, and the second rename would drop the
// first one's records. The lock is an flock on a file beside the
// database, so the kernel releases it when a process dies.
func lockDir(ctx context.Context, dbPath string) (func(), error) {
	f, err := os.OpenFile(dbPath+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("vulnerability database lock: %w", err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				unix.Flock(int(f.Fd()), unix.LOCK_UN)
				f.Close()
			}, nil
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			f.Close()
			return nil, fmt.Errorf("vulnerability database lock: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another import of %s to finish: %w", dbPath, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
