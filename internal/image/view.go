package image

import (
	"hash/maphash"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// View answers which files of a layered image are visible in the final,
// squashed filesystem, following the OCI rules for whiteouts
// (".wh.NAME" deletes NAME, ".wh..wh..opq" hides everything below a
// directory from lower layers) and for replacement (a later layer's entry
// at the same path, or a non-directory at a parent path, hides it).
//
// It keeps 64-bit hashes of paths rather than the paths themselves, so its
// memory stays small on images with millions of files.
type View struct {
	seed   maphash.Seed
	layers []*layerIndex // nil for a plain directory tree: everything is visible
	tree   string        // the directory, for a plain tree
}

type layerIndex struct {
	// entries maps a path hash to the entry's last sequence number in the
	// layer, shifted left once, with the low bit set for directories.
	entries   map[uint64]uint64
	whiteouts map[uint64]struct{} // exact paths deleted from lower layers
	opaque    map[uint64]struct{} // directories whose lower content is hidden
}

func newView(n int) *View {
	v := &View{seed: maphash.MakeSeed(), layers: make([]*layerIndex, n)}
	for i := range v.layers {
		v.layers[i] = &layerIndex{entries: make(map[uint64]uint64), whiteouts: map[uint64]struct{}{}, opaque: map[uint64]struct{}{}}
	}
	return v
}

func (v *View) hash(p string) uint64 { return maphash.String(v.seed, p) }

func (li *layerIndex) add(h uint64, seq int, dir bool) {
	val := uint64(seq) << 1
	if dir {
		val |= 1
	}
	li.entries[h] = val
}

// Visible reports whether the entry at p, seen as the seq'th entry of
// layer, survives into the final filesystem.
func (v *View) Visible(layer, seq int, p string) bool {
	if v == nil || v.layers == nil {
		return true
	}
	li := v.layers[layer]
	if val, ok := li.entries[v.hash(p)]; ok && int(val>>1) != seq {
		return false // the same layer wrote the path again later
	}
	return !v.hiddenAbove(layer, p)
}

// Exists reports whether p is present in the final filesystem.
func (v *View) Exists(p string) bool {
	if v == nil {
		return false
	}
	if v.tree != "" {
		_, err := os.Lstat(filepath.Join(v.tree, filepath.FromSlash(p)))
		return err == nil
	}
	if len(v.layers) == 0 {
		return false
	}
	h := v.hash(p)
	for i := len(v.layers) - 1; i >= 0; i-- {
		if _, ok := v.layers[i].entries[h]; ok {
			return !v.hiddenAbove(i, p)
		}
	}
	return false
}

// hiddenAbove reports whether a layer above the given one hides p.
func (v *View) hiddenAbove(layer int, p string) bool {
	h := v.hash(p)
	for j := layer + 1; j < len(v.layers); j++ {
		lj := v.layers[j]
		if _, ok := lj.entries[h]; ok {
			return true
		}
		if _, ok := lj.whiteouts[h]; ok {
			return true
		}
		for a := parent(p); a != "/"; a = parent(a) {
			ha := v.hash(a)
			if _, ok := lj.whiteouts[ha]; ok {
				return true
			}
			if _, ok := lj.opaque[ha]; ok {
				return true
			}
			if val, ok := lj.entries[ha]; ok && val&1 == 0 {
				return true // a file or symlink replaced a parent directory
			}
		}
	}
	return false
}

func parent(p string) string {
	d := path.Dir(p)
	if d == "." || d == "" {
		return "/"
	}
	return d
}

// cleanPath turns a tar entry name into an absolute, clean path. It
// reports false for names that escape the root ("../etc/passwd").
// Leading slashes are stripped first, as every container runtime does.
func cleanPath(name string) (string, bool) {
	name = strings.TrimLeft(name, "/")
	if name == "" || name == "." || name == "./" {
		return "/", true
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", false
	}
	return "/" + c, true
}
