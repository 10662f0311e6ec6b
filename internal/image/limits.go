package image

import (
	"fmt"
	"os"
	"sync"
)

// Limits bound what reading an image may cost. Every input is treated as
// hostile, so none of these is unlimited.
type Limits struct {
	// MaxFileRead is the largest single file a plug-in may read in full.
	MaxFileRead int64
	// MemBuffer is the largest file buffered in memory; bigger files that
	// need random access are spooled to the scan's temporary directory.
	MemBuffer int64
	// MaxLayerBytes caps the uncompressed size of one layer.
	MaxLayerBytes int64
	// MaxRatio caps the ratio of uncompressed to compressed bytes once a
	// layer has produced RatioFloor bytes: a guard against decompression bombs.
	MaxRatio   int64
	RatioFloor int64
	// MaxEntries caps the number of tar entries in one layer.
	MaxEntries int
}

// DefaultLimits returns limits that fit real images with room to spare.
func DefaultLimits() *Limits {
	return &Limits{
		MaxFileRead:   1 << 30,  // 1 GiB
		MemBuffer:     32 << 20, // 32 MiB
		MaxLayerBytes: 64 << 30, // 64 GiB
		MaxRatio:      250,
		RatioFloor:    1 << 30,
		MaxEntries:    5_000_000,
	}
}

// TempDir is the scan's private temporary directory. Everything a scan
// writes goes here and is removed by Close.
type TempDir struct {
	once sync.Once
	dir  string
	err  error
	base string
}

// NewTempDir returns a TempDir that is created under base (os.TempDir()
// when empty) on first use.
func NewTempDir(base string) *TempDir { return &TempDir{base: base} }

// Create makes a new empty file in the directory.
func (t *TempDir) Create() (*os.File, error) {
	t.once.Do(func() { t.dir, t.err = os.MkdirTemp(t.base, "seawall-scan-*") })
	if t.err != nil {
		return nil, fmt.Errorf("temporary directory: %w", t.err)
	}
	return os.CreateTemp(t.dir, "spool-*")
}

// Close removes the directory and everything in it.
func (t *TempDir) Close() error {
	if t.dir == "" {
		return nil
	}
	return os.RemoveAll(t.dir)
}
