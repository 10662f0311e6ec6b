package image

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// OpenTree opens a directory as a root filesystem (kind rootfs) or a
// source tree (kind dir). The walk never follows symbolic links, so links
// that loop or point outside the tree are harmless.
func OpenTree(dir, kind string) (*Image, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	img := &Image{Kind: kind, Name: dir, tree: abs, skip: pseudoMounts(abs)}
	return img, nil
}

// pseudoFS lists filesystem types that hold no installed software; a
// scan of "/" does not descend into them.
var pseudoFS = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "cgroup": true, "cgroup2": true,
	"tracefs": true, "debugfs": true, "securityfs": true, "pstore": true, "bpf": true, "mqueue": true,
	"hugetlbfs": true, "fusectl": true, "configfs": true, "autofs": true, "binfmt_misc": true,
	"efivarfs": true, "rpc_pipefs": true, "nsfs": true, "selinuxfs": true,
}

// pseudoMounts returns the paths, relative to root and in the walk's
// "/a/b" form, of pseudo filesystems mounted under root.
func pseudoMounts(root string) map[string]bool {
	skip := map[string]bool{}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return skip
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(fields) || len(fields) < 5 {
			continue
		}
		mnt := unescapeMount(fields[4])
		if !pseudoFS[fields[sep+1]] {
			continue
		}
		rel, err := filepath.Rel(root, mnt)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			continue
		}
		skip["/"+filepath.ToSlash(rel)] = true
	}
	return skip
}

// unescapeMount undoes mountinfo's octal escapes ("\040" for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for j := 1; j <= 3; j++ {
				c := s[i+j]
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + (c - '0')
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func walkTree(ctx context.Context, img *Image, opts WalkOptions, visit Visit) error {
	root := img.tree
	seq := 0
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel, rerr := filepath.Rel(root, p)
		if rerr != nil {
			return rerr
		}
		wp := "/" + filepath.ToSlash(rel)
		if rel == "." {
			wp = "/"
		}
		if err != nil {
			opts.Warn(fmt.Sprintf("%s: %v", wp, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if wp == "/" {
			return nil
		}
		if d.IsDir() && (img.skip[wp] || (img.Kind == KindDir && d.Name() == ".git")) {
			return fs.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			opts.Warn(fmt.Sprintf("%s: %v", wp, err))
			return nil
		}
		seq++
		f := &File{Path: wp, Mode: info.Mode(), Layer: 0, seq: seq, limits: opts.Limits, tmp: opts.Temp}
		switch {
		case info.Mode().IsRegular():
			f.Size = info.Size()
			full := p
			f.open = func() (*os.File, error) { return openNoFollow(full) }
		case info.Mode()&fs.ModeSymlink != 0:
			f.Linkname, _ = os.Readlink(p)
		}
		err = visit(ctx, f)
		f.release()
		return err
	})
}

// OpenRootfs opens a root filesystem given as a directory or as a tar
// archive (plain, gzip or zstd). A tarball is read as a single layer.
func OpenRootfs(p string) (*Image, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	if st.IsDir() {
		return OpenTree(p, KindRootfs)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	l := localLayer(0, f, st.Size())
	if isCompressed(f) {
		l.at = nil // a stream, not seekable
	}
	return &Image{Kind: KindRootfs, Name: p, Layers: []*Layer{l}, closers: []io.Closer{f}}, nil
}
