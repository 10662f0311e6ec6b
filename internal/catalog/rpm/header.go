package rpm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Header tags the cataloger reads (rpm's lib/rpmtag.h).
const (
	tagName            = 1000
	tagVersion         = 1001
	tagRelease         = 1002
	tagEpoch           = 1003
	tagVendor          = 1011
	tagLicense         = 1014
	tagArch            = 1022
	tagSourceRPM       = 1044
	tagModularityLabel = 5096
)

// Header data types (rpm's rpmTagType).
const (
	typeInt32       = 4
	typeString      = 6
	typeStringArray = 8
	typeI18NString  = 9
)

const (
	// maxTags and maxHeaderData are rpm's own limits (HEADER_TAGS_MAX and
	// HEADER_DATA_MAX in lib/header_internal.h).
	maxTags       = 0xffff
	maxHeaderData = 256 << 20
)

var errHeader = errors.New("malformed rpm header")

// header is what the cataloger keeps of one rpm header.
type header struct {
	name, version, release, arch string
	sourceRPM, license           string
	vendor, modularityLabel      string
	epoch                        int32
	hasEpoch                     bool
}

// parseHeader reads the tags it needs from an rpm header blob as the
// databases store it: the entry count and data length (big-endian
// int32s), that many 16-byte index entries (tag, type, offset, count),
// then the data store. Only the entries it needs are looked at, each
// once, so the cost is linear in the blob's size whatever it claims.
func parseHeader(b []byte) (*header, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: %d bytes", errHeader, len(b))
	}
	il := int64(int32(binary.BigEndian.Uint32(b[0:4])))
	dl := int64(int32(binary.BigEndian.Uint32(b[4:8])))
	if il < 1 || il > maxTags || dl < 0 || dl > maxHeaderData {
		return nil, fmt.Errorf("%w: %d entries and %d data bytes", errHeader, il, dl)
	}
	start := 8 + 16*il
	if start+dl > int64(len(b)) {
		return nil, fmt.Errorf("%w: %d entries and %d data bytes do not fit in %d bytes", errHeader, il, dl, len(b))
	}
	index, data := b[8:start], b[start:start+dl]

	// Later entries win: rpm lets entries added after installation (the
	// "dribble") replace those of the original region.
	last := map[int32]int{}
	for i := 0; i < int(il); i++ {
		switch tag := int32(binary.BigEndian.Uint32(index[16*i:])); tag {
		case tagName, tagVersion, tagRelease, tagEpoch, tagVendor, tagLicense, tagArch, tagSourceRPM, tagModularityLabel:
			last[tag] = i
		}
	}

	h := &header{}
	for tag, i := range last {
		e := index[16*i : 16*i+16]
		typ := binary.BigEndian.Uint32(e[4:8])
		off := int64(int32(binary.BigEndian.Uint32(e[8:12])))
		count := binary.BigEndian.Uint32(e[12:16])
		if off < 0 || off >= dl || count == 0 {
			return nil, fmt.Errorf("%w: tag %d points outside the data (offset %d, count %d)", errHeader, tag, off, count)
		}
		if tag == tagEpoch {
			if typ != typeInt32 || off+4 > dl {
				return nil, fmt.Errorf("%w: bad epoch entry (type %d, offset %d)", errHeader, typ, off)
			}
			h.epoch, h.hasEpoch = int32(binary.BigEndian.Uint32(data[off:])), true
			continue
		}
		if typ != typeString && typ != typeStringArray && typ != typeI18NString {
			return nil, fmt.Errorf("%w: tag %d has type %d, want a string", errHeader, tag, typ)
		}
		// For arrays and translated strings the first value is the one
		// rpm -q shows.
		n := bytes.IndexByte(data[off:], 0)
		if n < 0 {
			return nil, fmt.Errorf("%w: tag %d is not NUL-terminated", errHeader, tag)
		}
		s := string(data[off : off+int64(n)])
		switch tag {
		case tagName:
			h.name = s
		case tagVersion:
			h.version = s
		case tagRelease:
			h.release = s
		case tagArch:
			h.arch = s
		case tagSourceRPM:
			h.sourceRPM = s
		case tagLicense:
			h.license = s
		case tagVendor:
			h.vendor = s
		case tagModularityLabel:
			h.modularityLabel = s
		}
	}
	if h.name == "" || h.version == "" {
		return nil, fmt.Errorf("%w: no name or version", errHeader)
	}
	return h, nil
}
