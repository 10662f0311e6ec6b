package rpm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
)

// rpm's own "ndb" format (lib/backend/ndb/rpmpkg.c), used by SUSE: a
// header naming the number of 4 KiB slot pages, 16-byte slots pointing
// at blobs, and blobs of 16-byte blocks, each with a head, the header
// blob, and a tail carrying an Adler-32 of head and blob. All integers
// are little-endian.
const (
	ndbMagic     = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	ndbTailMagic = 'B' | 'l'<<8 | 'b'<<16 | 'E'<<24

	ndbSlotPage = 4096
	ndbSlotSize = 16
	ndbBlock    = 16
	ndbBlobHead = 16
	ndbBlobTail = 12
)

var errNDB = errors.New("malformed NDB rpm database")

// readNDB calls emit with each header blob of an NDB Packages.db of size
// bytes, or with the reason a record could not be read. A blob is used
// only when its head, length and checksum agree, and blobs together may
// not claim more than the file holds.
func readNDB(ctx context.Context, r io.ReaderAt, size int64, emit func([]byte, error) error) error {
	head := make([]byte, 32)
	if err := readFull(r, head, 0); err != nil {
		return fmt.Errorf("%w: header: %v", errNDB, err)
	}
	le := binary.LittleEndian
	if le.Uint32(head[0:4]) != ndbMagic {
		return fmt.Errorf("%w: not an NDB database", errNDB)
	}
	if v := le.Uint32(head[4:8]); v != 0 {
		return fmt.Errorf("%w: version %d", errNDB, v)
	}
	slotPages := int64(le.Uint32(head[12:16]))
	if slotPages == 0 || slotPages*ndbSlotPage > size {
		return fmt.Errorf("%w: %d slot pages in a %d-byte file", errNDB, slotPages, size)
	}
	slots := make([]byte, slotPages*ndbSlotPage)
	if err := readFull(r, slots, 0); err != nil {
		return fmt.Errorf("%w: slots: %v", errNDB, err)
	}
	budget := size // blob bytes left to read
	seen := map[uint32]bool{}
	// The first two slots hold the database header.
	for i := int64(2); i < int64(len(slots))/ndbSlotSize; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s := slots[i*ndbSlotSize : (i+1)*ndbSlotSize]
		if le.Uint32(s[0:4]) != ndbSlotMagic {
			return fmt.Errorf("%w: slot %d has a bad magic number", errNDB, i)
		}
		pkgIdx := le.Uint32(s[4:8])
		if pkgIdx == 0 {
			continue // free slot
		}
		off, blocks := int64(le.Uint32(s[8:12]))*ndbBlock, int64(le.Uint32(s[12:16]))*ndbBlock
		if budget -= blocks; budget < 0 {
			return fmt.Errorf("%w: slots claim more blob bytes than the file holds", errNDB)
		}
		var blob []byte
		var err error
		if seen[pkgIdx] {
			err = fmt.Errorf("%w: two slots for one package", errNDB)
		} else {
			seen[pkgIdx] = true
			blob, err = readNDBBlob(r, size, pkgIdx, off, blocks)
		}
		if err != nil {
			err = fmt.Errorf("package index %d: %w", pkgIdx, err)
		}
		if err := emit(blob, err); err != nil {
			return err
		}
	}
	return nil
}

func readNDBBlob(r io.ReaderAt, size int64, pkgIdx uint32, off, blocks int64) ([]byte, error) {
	if blocks < ndbBlobHead+ndbBlobTail || off < ndbSlotPage || off+blocks > size {
		return nil, fmt.Errorf("%w: blob of %d bytes at offset %d", errNDB, blocks, off)
	}
	b := make([]byte, blocks)
	if err := readFull(r, b, off); err != nil {
		return nil, fmt.Errorf("%w: blob: %v", errNDB, err)
	}
	le := binary.LittleEndian
	n := int64(le.Uint32(b[12:16]))
	if le.Uint32(b[0:4]) != ndbBlobMagic || le.Uint32(b[4:8]) != pkgIdx {
		return nil, fmt.Errorf("%w: blob head does not match its slot", errNDB)
	}
	if (ndbBlobHead+n+ndbBlobTail+ndbBlock-1)/ndbBlock*ndbBlock != blocks {
		return nil, fmt.Errorf("%w: blob of %d bytes in %d blocks", errNDB, n, blocks/ndbBlock)
	}
	tail := b[blocks-ndbBlobTail:]
	if le.Uint32(tail[8:12]) != ndbTailMagic || int64(le.Uint32(tail[4:8])) != n {
		return nil, fmt.Errorf("%w: blob tail does not match its head", errNDB)
	}
	if le.Uint32(tail[0:4]) != adler32.Checksum(b[:blocks-ndbBlobTail]) {
		return nil, fmt.Errorf("%w: blob checksum mismatch", errNDB)
	}
	return b[ndbBlobHead : ndbBlobHead+n], nil
}
