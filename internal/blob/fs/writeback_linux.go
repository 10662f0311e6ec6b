package fs

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing n bytes of f from off to
// disk without waiting for them (sync_file_range SYNC_FILE_RANGE_WRITE).
// It is a hint that overlaps disk writes with receiving the rest of an
// upload, so that the fsync before a commit finds little left to do; it
// guarantees nothing, and errors are left for that fsync to report.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
