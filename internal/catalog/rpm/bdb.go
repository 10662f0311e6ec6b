package rpm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Berkeley DB hash database layout (libdb's dbinc/db_page.h): rpm up to
// 4.16 keeps the Packages database as a hash of instance numbers to
// header blobs, and the blobs, being large, live on chains of overflow
// pages.
const (
	bdbHashMagic   = 0x00061561
	bdbPageHeader  = 26 // every page starts with this header
	bdbMetaMinSize = 72 // of the hash metadata page, as far as it is read

	bdbPageHashUnsorted = 2 // hash page written before libdb 4.6
	bdbPageOverflow     = 7
	bdbPageHashMeta     = 8
	bdbPageHash         = 13

	bdbItemKeyData = 1 // H_KEYDATA: the item is on the page
	bdbItemOffPage = 3 // H_OFFPAGE: the item is on an overflow chain
	bdbOffPageSize = 12
)

var (
	errBDB    = errors.New("malformed Berkeley DB rpm database")
	errBudget = fmt.Errorf("%w: overflow chains revisit pages", errBDB)
)

// bdbPage reads the fields of a page header in the database's byte order.
type bdbPage struct {
	b     []byte
	order binary.ByteOrder
}

func (p bdbPage) next() uint32    { return p.order.Uint32(p.b[16:20]) }
func (p bdbPage) entries() int    { return int(p.order.Uint16(p.b[20:22])) }
func (p bdbPage) hfOffset() int   { return int(p.order.Uint16(p.b[22:24])) }
func (p bdbPage) pageType() uint8 { return p.b[25] }
func (p bdbPage) index(i int) int { return int(p.order.Uint16(p.b[bdbPageHeader+2*i:])) }

// readBDB calls emit with each header blob of a Berkeley DB Packages
// database of size bytes, or with the reason a record could not be read.
// Every offset, page number and length is checked against the file before
// it is used, and all overflow chains together may not read more pages
// than the file holds (in a sound database each page is on one chain), so
// a hostile file costs at most about two passes over it.
func readBDB(ctx context.Context, r io.ReaderAt, size int64, emit func([]byte, error) error) error {
	meta := make([]byte, bdbMetaMinSize)
	if err := readFull(r, meta, 0); err != nil {
		return fmt.Errorf("%w: metadata page: %v", errBDB, err)
	}
	var order binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint32(meta[12:16]) == bdbHashMagic:
		order = binary.LittleEndian
	case binary.BigEndian.Uint32(meta[12:16]) == bdbHashMagic:
		order = binary.BigEndian
	default:
		return fmt.Errorf("%w: not a Berkeley DB hash database", errBDB)
	}
	pageSize := int64(order.Uint32(meta[20:24]))
	if meta[24] != 0 {
		return fmt.Errorf("%w: encrypted", errBDB)
	}
	if meta[25] != bdbPageHashMeta {
		return fmt.Errorf("%w: page 0 has type %d, want hash metadata", errBDB, meta[25])
	}
	if pageSize < 512 || pageSize > 64<<10 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("%w: page size %d", errBDB, pageSize)
	}
	lastPage := int64(order.Uint32(meta[32:36]))
	nPages := size / pageSize
	if lastPage >= nPages {
		return fmt.Errorf("%w: truncated: the last page is %d but the file holds %d pages", errBDB, lastPage, nPages)
	}
	nPages = lastPage + 1

	page := bdbPage{b: make([]byte, pageSize), order: order}
	ovf := bdbPage{b: make([]byte, pageSize), order: order}
	read := func(p bdbPage, n int64) error {
		if err := readFull(r, p.b, n*pageSize); err != nil {
			return fmt.Errorf("%w: page %d: %v", errBDB, n, err)
		}
		return nil
	}
	budget := nPages // overflow pages left to read
	for n := int64(1); n < nPages; n++ {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := read(page, n); err != nil {
			return err
		}
		if t := page.pageType(); t != bdbPageHash && t != bdbPageHashUnsorted {
			continue
		}
		// The index holds pairs of offsets, key then data; items are
		// packed from the end of the page downwards.
		entries := page.entries()
		if entries%2 != 0 || bdbPageHeader+2*int64(entries) > pageSize {
			return fmt.Errorf("%w: page %d: %d index entries", errBDB, n, entries)
		}
		for i := 1; i < entries; i += 2 {
			keyOff, off := page.index(i-1), page.index(i)
			if int64(keyOff) >= pageSize || off >= keyOff || off < bdbPageHeader+2*entries {
				return fmt.Errorf("%w: page %d: item %d at offset %d", errBDB, n, i, off)
			}
			var blob []byte
			switch page.b[off] {
			case bdbItemOffPage:
				if off+bdbOffPageSize > keyOff {
					return fmt.Errorf("%w: page %d: short off-page item", errBDB, n)
				}
				pgno := int64(order.Uint32(page.b[off+4:]))
				length := int64(order.Uint32(page.b[off+8:]))
				var err error
				if blob, err = readOverflow(read, ovf, pgno, length, nPages, pageSize, &budget); err != nil {
					if errors.Is(err, errBudget) {
						return err
					}
					if err := emit(nil, fmt.Errorf("page %d item %d: %w", n, i, err)); err != nil {
						return err
					}
					continue
				}
			case bdbItemKeyData:
				// A value small enough to sit on the page. rpm keeps its
				// next-instance counter this way (4 bytes under key 0);
				// no real header is that small.
				if blob = page.b[off+1 : keyOff]; len(blob) < 16 {
					continue
				}
			default:
				continue // duplicates: rpm does not use them
			}
			if err := emit(blob, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// readOverflow reads the overflow chain that starts at pgno and holds
// length bytes. On an overflow page, the header's free-space offset is
// the number of bytes used.
func readOverflow(read func(bdbPage, int64) error, p bdbPage, pgno, length, nPages, pageSize int64, budget *int64) ([]byte, error) {
	if length <= 0 || length > nPages*(pageSize-bdbPageHeader) {
		return nil, fmt.Errorf("%w: off-page item of %d bytes", errBDB, length)
	}
	out := make([]byte, 0, length)
	for int64(len(out)) < length {
		if pgno <= 0 || pgno >= nPages {
			return nil, fmt.Errorf("%w: overflow chain reaches page %d (%d of %d bytes read)", errBDB, pgno, len(out), length)
		}
		if *budget--; *budget < 0 {
			return nil, errBudget
		}
		if err := read(p, pgno); err != nil {
			return nil, err
		}
		if p.pageType() != bdbPageOverflow {
			return nil, fmt.Errorf("%w: page %d in an overflow chain has type %d", errBDB, pgno, p.pageType())
		}
		used := int64(p.hfOffset())
		if used == 0 || bdbPageHeader+used > pageSize || int64(len(out))+used > length {
			return nil, fmt.Errorf("%w: overflow page %d uses %d bytes", errBDB, pgno, used)
		}
		out = append(out, p.b[bdbPageHeader:bdbPageHeader+used]...)
		pgno = int64(p.next())
	}
	return out, nil
}
