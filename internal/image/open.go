package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Options say how to open an image.
type Options struct {
	// Platform picks an image from a multi-platform index ("linux/arm64").
	// Empty means the host's platform.
	Platform string
	// Registry access.
	Username, Password string
	Insecure           bool // allow plain HTTP and unverified TLS to any registry
	// Temp receives files that must be written to disk (a compressed
	// archive that has to be decompressed before it can be read in place).
	Temp *TempDir
}

// HostPlatform is the platform Seawall runs on, always Linux for images.
func HostPlatform() *v1.Platform {
	p := &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm" {
		p.Variant = "v7"
	}
	return p
}

// ParsePlatform parses "os/arch[/variant]".
func ParsePlatform(s string) (*v1.Platform, error) {
	if s == "" {
		return nil, nil
	}
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return nil, fmt.Errorf("bad --platform %q: want os/arch[/variant], for example linux/arm64", s)
	}
	return p, nil
}

// Transport prefixes, as skopeo spells them.
var transports = []string{"docker-archive:", "oci-archive:", "oci:", "docker://", "registry:"}

// Open opens an image given the way a user types it: a path to a docker
// archive, an OCI layout directory or OCI archive, or a registry
// reference. A skopeo-style transport prefix ("oci:", "docker-archive:",
// "oci-archive:", "docker://") forces the kind and may carry a tag after
// a second colon.
func Open(ctx context.Context, ref string, opts Options) (*Image, error) {
	platform, err := ParsePlatform(opts.Platform)
	if err != nil {
		return nil, err
	}
	if opts.Temp == nil {
		opts.Temp = NewTempDir("")
	}
	for _, t := range transports {
		if rest, ok := strings.CutPrefix(ref, t); ok {
			switch t {
			case "docker://", "registry:":
				return openRemote(ctx, rest, platform, opts)
			}
			p, want := splitTransportRef(rest)
			return openLocal(p, strings.TrimSuffix(t, ":"), want, ref, platform, opts)
		}
	}
	if _, err := os.Stat(ref); err == nil {
		return openLocal(ref, "", "", ref, platform, opts)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", ref, err)
	}
	if looksLikePath(ref) {
		return nil, fmt.Errorf("%s: no such file or directory (and it is not a registry reference)", ref)
	}
	return openRemote(ctx, ref, platform, opts)
}

// looksLikePath reports whether a missing ref was meant as a local path.
func looksLikePath(ref string) bool {
	return strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") ||
		strings.HasSuffix(ref, ".tar") || strings.HasSuffix(ref, ".tar.gz") || strings.HasSuffix(ref, ".tgz")
}

// splitTransportRef splits "path:tag" as in "oci:dir:v1". Paths with a
// colon must be given without a tag.
func splitTransportRef(s string) (string, string) {
	if _, err := os.Stat(s); err == nil {
		return s, ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] != ':' || i == 0 {
			continue
		}
		if _, err := os.Stat(s[:i]); err == nil {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func openLocal(p, kind, want, name string, platform *v1.Platform, opts Options) (*Image, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	if st.IsDir() {
		ds := &dirStore{root: p}
		if !ds.has("index.json") {
			if ds.has("manifest.json") {
				img, err := openDockerArchive(ds, name, want)
				return withCloser(img, err, ds)
			}
			return nil, fmt.Errorf("%s is a directory but not an OCI image layout (no index.json); to scan a root filesystem use --rootfs, to scan a source tree use --dir", p)
		}
		img, err := openOCI(ds, KindOCILayout, name, want, platform)
		return withCloser(img, err, ds)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	f, err = uncompressedArchive(f, opts.Temp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	ts, err := indexTar(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	var img *Image
	switch {
	case kind == "oci-archive" || (kind == "" && ts.has("index.json") && !ts.has("manifest.json")):
		img, err = openOCI(ts, KindOCIArchive, name, want, platform)
	case ts.has("manifest.json"):
		img, err = openDockerArchive(ts, name, want)
	case ts.has("index.json"):
		img, err = openOCI(ts, KindOCIArchive, name, want, platform)
	default:
		err = fmt.Errorf("not an image archive: it has neither manifest.json (docker save) nor index.json (OCI); to scan a root filesystem tarball use --rootfs")
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	img.closers = append(img.closers, f)
	return img, nil
}

func withCloser(img *Image, err error, c io.Closer) (*Image, error) {
	if err != nil {
		c.Close()
		return nil, err
	}
	img.closers = append(img.closers, c)
	return img, nil
}

// uncompressedArchive returns f itself when it is a plain tar. A gzip'd
// archive (`docker save | gzip`) is decompressed once into the scan's
// temporary directory so its members can be read in place.
func uncompressedArchive(f *os.File, tmp *TempDir) (*os.File, error) {
	head := make([]byte, 6)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, gzipMagic), bytes.HasPrefix(head, zstdMagic):
	default:
		return f, nil
	}
	defer f.Close()
	zr, err := decompressor(io.NewSectionReader(f, 0, 1<<62), head)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	out, err := tmp.Create()
	if err != nil {
		return nil, err
	}
	lim := DefaultLimits()
	if _, err := io.Copy(out, io.LimitReader(zr, lim.MaxLayerBytes)); err != nil {
		out.Close()
		os.Remove(out.Name())
		return nil, fmt.Errorf("decompress archive: %v: %w", err, ErrCorrupt)
	}
	return out, nil
}
