//go:build unix

package image

import (
	"fmt"
	"os"
	"syscall"
)

// openNoFollow opens a regular file without following a final symbolic
// link and without blocking on a FIFO that raced into its place.
func openNoFollow(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: no longer a regular file", p)
	}
	return f, nil
}
