package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxMetadata bounds the JSON documents of a local image (index, manifest,
// config), which are small in every real image.
const maxMetadata = 16 << 20

// blobStore gives random access to the files of a local image: a
// directory (OCI layout) or an indexed tar (docker save, OCI archive).
type blobStore interface {
	open(name string) (io.ReaderAt, int64, error)
	has(name string) bool
}

func readSmall(bs blobStore, name string) ([]byte, error) {
	ra, size, err := bs.open(name)
	if err != nil {
		return nil, err
	}
	if size > maxMetadata {
		return nil, fmt.Errorf("%s: %d bytes is too large for image metadata", name, size)
	}
	b := make([]byte, size)
	if _, err := ra.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, nil
}

// dirStore is an OCI image layout on disk.
type dirStore struct {
	root  string
	files []*os.File
}

func (d *dirStore) open(name string) (io.ReaderAt, int64, error) {
	rel, ok := cleanPath(name)
	if !ok {
		return nil, 0, fmt.Errorf("%q escapes the image directory", name)
	}
	f, err := os.Open(filepath.Join(d.root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is not a regular file", name)
	}
	d.files = append(d.files, f)
	return f, st.Size(), nil
}

func (d *dirStore) has(name string) bool {
	rel, ok := cleanPath(name)
	if !ok {
		return false
	}
	_, err := os.Stat(filepath.Join(d.root, filepath.FromSlash(rel)))
	return err == nil
}

func (d *dirStore) Close() error {
	for _, f := range d.files {
		f.Close()
	}
	d.files = nil
	return nil
}

// tarStore is an uncompressed tar whose member files are read in place.
type tarStore struct {
	f       *os.File
	entries map[string]span
}

type span struct{ off, size int64 }

// indexTar reads the headers of an uncompressed tar once, seeking past
// content, and records where each member lives.
func indexTar(f *os.File) (*tarStore, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	sr := newSeekReader(f, st.Size())
	tr := tar.NewReader(sr)
	ts := &tarStore{f: f, entries: map[string]span{}}
	links := map[string]string{}
	for n := 0; ; n++ {
		if n > 1_000_000 {
			return nil, fmt.Errorf("archive has more than a million members: %w", ErrCorrupt)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %v: %w", err, ErrCorrupt)
		}
		p, ok := cleanPath(hdr.Name)
		if !ok {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			off, _ := sr.Seek(0, io.SeekCurrent)
			ts.entries[p] = span{off, hdr.Size}
		case tar.TypeSymlink:
			// docker save stores repeated layers as symlinks to the first copy.
			links[p] = path.Join(path.Dir(p), hdr.Linkname)
		case tar.TypeLink:
			links[p] = "/" + strings.TrimLeft(hdr.Linkname, "/")
		}
	}
	for from, to := range links {
		for i := 0; i < 8; i++ { // bounded: loops are ignored
			if s, ok := ts.entries[to]; ok {
				ts.entries[from] = s
				break
			}
			next, ok := links[to]
			if !ok {
				break
			}
			to = next
		}
	}
	return ts, nil
}

func (t *tarStore) open(name string) (io.ReaderAt, int64, error) {
	p, ok := cleanPath(name)
	if !ok {
		return nil, 0, fmt.Errorf("%q escapes the archive", name)
	}
	s, ok := t.entries[p]
	if !ok {
		return nil, 0, fmt.Errorf("%s: not in the archive: %w", name, os.ErrNotExist)
	}
	return io.NewSectionReader(t.f, s.off, s.size), s.size, nil
}

func (t *tarStore) has(name string) bool {
	p, ok := cleanPath(name)
	if !ok {
		return false
	}
	_, ok = t.entries[p]
	return ok
}

var digestRE = regexp.MustCompile(`^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)

func blobPath(d v1.Hash) (string, error) {
	s := d.String()
	if !digestRE.MatchString(s) {
		return "", fmt.Errorf("unsupported or malformed digest %q", s)
	}
	return "blobs/" + d.Algorithm + "/" + d.Hex, nil
}

// localLayer makes a Layer over a blob that can be read in place.
func localLayer(i int, ra io.ReaderAt, size int64) *Layer {
	return &Layer{
		Index: i,
		Size:  size,
		at:    ra,
		open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(io.NewSectionReader(ra, 0, size)), nil
		},
	}
}

// isCompressed sniffs a blob's first bytes.
func isCompressed(ra io.ReaderAt) bool {
	head := make([]byte, 6)
	n, _ := ra.ReadAt(head, 0)
	head = head[:n]
	return bytes.HasPrefix(head, gzipMagic) || bytes.HasPrefix(head, zstdMagic) || bytes.HasPrefix(head, xzMagic) || bytes.HasPrefix(head, bz2Magic)
}

// dockerManifest is one entry of a docker save archive's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// openDockerArchive reads a `docker save` (or `podman save`,
// `skopeo copy docker-archive:`) archive. want selects an image by tag
// when the archive holds several.
func openDockerArchive(bs blobStore, name, want string) (*Image, error) {
	raw, err := readSmall(bs, "manifest.json")
	if err != nil {
		return nil, fmt.Errorf("docker archive: %w", err)
	}
	var ms []dockerManifest
	if err := json.Unmarshal(raw, &ms); err != nil {
		return nil, fmt.Errorf("docker archive manifest.json: %w", err)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("docker archive manifest.json lists no images")
	}
	m := ms[0]
	if want != "" || len(ms) > 1 {
		found := false
		var tags []string
		for _, c := range ms {
			tags = append(tags, c.RepoTags...)
			for _, t := range c.RepoTags {
				if want != "" && (t == want || strings.TrimPrefix(t, "docker.io/library/") == want || strings.TrimPrefix(t, "localhost/") == want) {
					m, found = c, true
				}
			}
		}
		if !found {
			if want == "" {
				return nil, fmt.Errorf("the archive holds %d images (%s); pick one with docker-archive:%s:TAG", len(ms), strings.Join(tags, ", "), name)
			}
			return nil, fmt.Errorf("the archive has no image tagged %q (it has: %s)", want, strings.Join(tags, ", "))
		}
	}
	img := &Image{Kind: KindDockerArchive, Name: name, RepoTags: m.RepoTags}
	for i, lp := range m.Layers {
		ra, size, err := bs.open(lp)
		if err != nil {
			return nil, fmt.Errorf("docker archive layer %d: %w", i+1, err)
		}
		l := localLayer(i, ra, size)
		if strings.HasPrefix(lp, "blobs/") {
			l.Digest = strings.Replace(strings.TrimPrefix(lp, "blobs/"), "/", ":", 1)
		}
		img.Layers = append(img.Layers, l)
	}
	cfg, err := readSmall(bs, m.Config)
	if err != nil {
		return nil, fmt.Errorf("docker archive config: %w", err)
	}
	if err := img.parseConfig(cfg); err != nil {
		return nil, err
	}
	h, _, _ := v1.SHA256(bytes.NewReader(cfg))
	img.ConfigDigest = h.String()
	for _, l := range img.Layers {
		if l.Digest == "" && !isCompressed(l.at) {
			l.Digest = l.DiffID // an uncompressed layer's blob is its diff
		}
		if l.MediaType == "" {
			l.MediaType = string(types.DockerLayer)
			if !isCompressed(l.at) {
				l.MediaType = string(types.DockerUncompressedLayer)
			}
		}
	}
	return img, nil
}

// openOCI reads an OCI image layout, either a directory or an archive.
// want selects by the org.opencontainers.image.ref.name annotation;
// platform selects among the manifests of an index.
func openOCI(bs blobStore, kind, name, want string, platform *v1.Platform) (*Image, error) {
	raw, err := readSmall(bs, "index.json")
	if err != nil {
		return nil, fmt.Errorf("OCI layout: %w", err)
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("OCI layout index.json: %w", err)
	}
	cands := idx.Manifests
	if want != "" {
		cands = nil
		var names []string
		for _, d := range idx.Manifests {
			ref := d.Annotations["org.opencontainers.image.ref.name"]
			names = append(names, ref)
			if ref == want || strings.HasSuffix(ref, ":"+want) {
				cands = append(cands, d)
			}
		}
		if len(cands) == 0 {
			return nil, fmt.Errorf("the OCI layout has no image named %q (it has: %s)", want, strings.Join(names, ", "))
		}
	}
	desc, err := pickManifest(bs, cands, platform, 0)
	if err != nil {
		return nil, err
	}
	return ociImage(bs, kind, name, desc)
}

// pickManifest resolves descriptors, descending through nested indexes,
// to the one image manifest for the wanted platform.
func pickManifest(bs blobStore, descs []v1.Descriptor, platform *v1.Platform, depth int) (v1.Descriptor, error) {
	if depth > 4 {
		return v1.Descriptor{}, fmt.Errorf("image indexes nested too deeply")
	}
	var images []v1.Descriptor
	for _, d := range descs {
		switch d.MediaType {
		case types.OCIImageIndex, types.DockerManifestList:
			bp, err := blobPath(d.Digest)
			if err != nil {
				return v1.Descriptor{}, err
			}
			raw, err := readSmall(bs, bp)
			if err != nil {
				return v1.Descriptor{}, fmt.Errorf("image index %s: %w", d.Digest, err)
			}
			var idx v1.IndexManifest
			if err := json.Unmarshal(raw, &idx); err != nil {
				return v1.Descriptor{}, fmt.Errorf("image index %s: %w", d.Digest, err)
			}
			sub, err := pickManifest(bs, idx.Manifests, platform, depth+1)
			if err != nil {
				return v1.Descriptor{}, err
			}
			images = append(images, sub)
		case types.OCIManifestSchema1, types.DockerManifestSchema2, "":
			images = append(images, d)
		}
	}
	return choosePlatform(images, platform)
}

// choosePlatform picks the image manifest for platform, or the only one.
func choosePlatform(images []v1.Descriptor, platform *v1.Platform) (v1.Descriptor, error) {
	if len(images) == 0 {
		return v1.Descriptor{}, fmt.Errorf("no image manifest found")
	}
	if len(images) == 1 && (platform == nil || images[0].Platform == nil) {
		return images[0], nil
	}
	want := platform
	if want == nil {
		want = HostPlatform()
	}
	var have []string
	for _, d := range images {
		if d.Platform == nil {
			continue
		}
		if d.Platform.Satisfies(*want) {
			return d, nil
		}
		have = append(have, platformString(d.Platform))
	}
	return v1.Descriptor{}, fmt.Errorf("no image for platform %s (available: %s); choose one with --platform", platformString(want), strings.Join(have, ", "))
}

func ociImage(bs blobStore, kind, name string, desc v1.Descriptor) (*Image, error) {
	bp, err := blobPath(desc.Digest)
	if err != nil {
		return nil, err
	}
	raw, err := readSmall(bs, bp)
	if err != nil {
		return nil, fmt.Errorf("image manifest %s: %w", desc.Digest, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("image manifest %s: %w", desc.Digest, err)
	}
	img := &Image{Kind: kind, Name: name, ManifestDigest: desc.Digest.String(), ConfigDigest: m.Config.Digest.String()}
	if desc.Platform != nil {
		img.Platform = platformString(desc.Platform)
	}
	if ref := desc.Annotations["org.opencontainers.image.ref.name"]; ref != "" {
		img.RepoTags = []string{ref}
	}
	for i, ld := range m.Layers {
		if !isLayerMediaType(ld.MediaType) {
			continue // artifacts and foreign layers we cannot read
		}
		lp, err := blobPath(ld.Digest)
		if err != nil {
			return nil, err
		}
		ra, size, err := bs.open(lp)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i+1, ld.Digest, err)
		}
		l := localLayer(len(img.Layers), ra, size)
		l.Digest = ld.Digest.String()
		l.MediaType = string(ld.MediaType)
		img.Layers = append(img.Layers, l)
	}
	cp, err := blobPath(m.Config.Digest)
	if err != nil {
		return nil, err
	}
	cfg, err := readSmall(bs, cp)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	if err := img.parseConfig(cfg); err != nil {
		return nil, err
	}
	return img, nil
}

func isLayerMediaType(mt types.MediaType) bool {
	switch mt {
	case types.OCIRestrictedLayer, types.OCIUncompressedRestrictedLayer, types.DockerForeignLayer:
		return false
	}
	s := string(mt)
	return strings.Contains(s, "layer") || strings.Contains(s, "rootfs") || s == ""
}
