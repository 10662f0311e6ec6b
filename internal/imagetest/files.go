package imagetest

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"
)

// BlobInfo describes a layer blob on disk.
type BlobInfo struct {
	Path       string
	Digest     string // of the blob as stored
	DiffID     string // of the uncompressed tar
	Size       int64
	TarSize    int64 // size of the uncompressed tar
	Compressed bool
}

// StatBlob hashes a layer blob file (gzip or plain tar), streaming.
func StatBlob(path string) (BlobInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return BlobInfo{}, err
	}
	defer f.Close()
	head := make([]byte, 2)
	n, _ := f.ReadAt(head, 0)
	bi := BlobInfo{Path: path, Compressed: n == 2 && head[0] == 0x1f && head[1] == 0x8b}
	outer := sha256.New()
	inner := sha256.New()
	r := io.TeeReader(f, outer)
	if bi.Compressed {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return bi, err
		}
		if bi.TarSize, err = io.Copy(inner, zr); err != nil {
			return bi, err
		}
		io.Copy(io.Discard, r)
	} else {
		if bi.TarSize, err = io.Copy(inner, r); err != nil {
			return bi, err
		}
	}
	st, _ := f.Stat()
	bi.Size = st.Size()
	bi.Digest = "sha256:" + hex.EncodeToString(outer.Sum(nil))
	bi.DiffID = "sha256:" + hex.EncodeToString(inner.Sum(nil))
	if !bi.Compressed {
		bi.DiffID = bi.Digest
	}
	return bi, nil
}

func configFor(blobs []BlobInfo) []byte {
	var diffs []string
	var hist []map[string]any
	for i, b := range blobs {
		diffs = append(diffs, b.DiffID)
		hist = append(hist, map[string]any{"created_by": fmt.Sprintf("layer %d: %s", i+1, filepath.Base(b.Path))})
	}
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config":  map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, "Cmd": []string{"bash"}},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffs},
		"history": hist,
	})
	return cfg
}

// OCILayoutFromBlobs writes an OCI layout whose layers are the given blob
// files, copied as they are (gzip'd blobs stay gzip'd).
func OCILayoutFromBlobs(dir, refName string, blobs []BlobInfo) error {
	if err := os.MkdirAll(filepath.Join(dir, "blobs/sha256"), 0o755); err != nil {
		return err
	}
	put := func(b []byte) (string, error) {
		d := Digest(b)
		return d, os.WriteFile(filepath.Join(dir, "blobs/sha256", d[7:]), b, 0o644)
	}
	var ls []map[string]any
	for _, b := range blobs {
		if err := copyFile(b.Path, filepath.Join(dir, "blobs/sha256", b.Digest[7:])); err != nil {
			return err
		}
		mt := "application/vnd.oci.image.layer.v1.tar"
		if b.Compressed {
			mt += "+gzip"
		}
		ls = append(ls, map[string]any{"mediaType": mt, "digest": b.Digest, "size": b.Size})
	}
	cfg := configFor(blobs)
	cd, err := put(cfg)
	if err != nil {
		return err
	}
	man, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
		"layers": ls,
	})
	md, err := put(man)
	if err != nil {
		return err
	}
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []map[string]any{{
		"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(man),
		"annotations": map[string]string{"org.opencontainers.image.ref.name": refName},
	}}})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// DockerArchiveFromBlobs writes a `docker save` archive with uncompressed
// layers (as docker save does) made from the given blob files.
func DockerArchiveFromBlobs(path, tag string, blobs []BlobInfo) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	cfg := configFor(blobs)
	cfgName := Digest(cfg)[7:] + ".json"
	var names []string
	for _, b := range blobs {
		name := b.DiffID[7:] + "/layer.tar"
		names = append(names, name)
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: b.TarSize, Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}); err != nil {
			return err
		}
		if err := copyUncompressed(tw, b); err != nil {
			return err
		}
	}
	man, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{tag}, "Layers": names}})
	for _, m := range []struct {
		name string
		b    []byte
	}{{cfgName, cfg}, {"manifest.json", man}} {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.b)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}); err != nil {
			return err
		}
		tw.Write(m.b)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func copyUncompressed(w io.Writer, b BlobInfo) error {
	f, err := os.Open(b.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if b.Compressed {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		r = zr
	}
	_, err = io.Copy(w, r)
	return err
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
