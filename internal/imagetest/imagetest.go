// Package imagetest builds small container images for tests: layers from
// in-memory entries, written as docker archives, OCI layouts and OCI
// archives byte by byte, so tests control compression and can make them
// malformed on purpose.
package imagetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Entry is one tar member.
type Entry struct {
	Name     string
	Type     byte // tar.TypeReg when zero
	Mode     int64
	Body     string
	Linkname string
}

// File is a regular file entry.
func File(name, body string) Entry { return Entry{Name: name, Body: body, Mode: 0o644} }

// Exec is an executable regular file entry.
func Exec(name, body string) Entry { return Entry{Name: name, Body: body, Mode: 0o755} }

// Dir is a directory entry.
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir, Mode: 0o755} }

// Symlink is a symbolic link entry.
func Symlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeSymlink, Linkname: target, Mode: 0o777}
}

// Hardlink is a hard link entry.
func Hardlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeLink, Linkname: target, Mode: 0o644}
}

// Whiteout deletes name from lower layers.
func Whiteout(name string) Entry {
	dir, base := filepath.Split(name)
	return File(dir+".wh."+base, "")
}

// Opaque hides the lower layers' content of dir.
func Opaque(dir string) Entry { return File(filepath.Join(dir, ".wh..wh..opq"), "") }

// Tar returns an uncompressed tar of the entries.
func Tar(entries ...Entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.Name, Typeflag: typ, Mode: e.Mode, Linkname: e.Linkname, ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			panic(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(e.Body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

// Gzip compresses b.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// Digest returns the sha256 digest of b as "sha256:hex".
func Digest(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// Layer is a layer blob as stored, with its uncompressed tar.
type Layer struct {
	Blob []byte // as stored: compressed or not
	Tar  []byte // uncompressed
}

// NewLayer makes a layer from entries, gzip-compressed when gz is set.
func NewLayer(gz bool, entries ...Entry) Layer {
	t := Tar(entries...)
	if gz {
		return Layer{Blob: Gzip(t), Tar: t}
	}
	return Layer{Blob: t, Tar: t}
}

// Config returns an image config JSON for the layers.
func Config(layers []Layer) []byte {
	var diffs []string
	var hist []map[string]any
	for i, l := range layers {
		diffs = append(diffs, Digest(l.Tar))
		hist = append(hist, map[string]any{"created_by": fmt.Sprintf("layer %d", i+1)})
	}
	cfg := map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Env": []string{"PATH=/usr/bin"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffs},
		"history":      hist,
	}
	b, _ := json.Marshal(cfg)
	return b
}

// ConfigWith is Config with the config object (user, env, ports …) and,
// when not nil, the history replaced: for tests of image settings.
func ConfigWith(layers []Layer, config map[string]any, history []map[string]any) []byte {
	var cfg map[string]any
	if err := json.Unmarshal(Config(layers), &cfg); err != nil {
		panic(err)
	}
	cfg["config"] = config
	if history != nil {
		cfg["history"] = history
	}
	b, _ := json.Marshal(cfg)
	return b
}

// DockerArchive writes a `docker save` style archive to path.
func DockerArchive(path string, tag string, layers []Layer) error {
	return DockerArchiveWithConfig(path, tag, layers, Config(layers))
}

// DockerArchiveWithConfig writes a `docker save` style archive with the
// given image config (see ConfigWith).
func DockerArchiveWithConfig(path string, tag string, layers []Layer, cfg []byte) error {
	cfgName := Digest(cfg)[len("sha256:"):] + ".json"
	var names []string
	files := map[string][]byte{cfgName: cfg}
	for i, l := range layers {
		n := fmt.Sprintf("%d/layer.tar", i)
		names = append(names, n)
		files[n] = l.Blob
	}
	man, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{tag}, "Layers": names}})
	files["manifest.json"] = man
	order := append([]string{cfgName}, names...)
	order = append(order, "manifest.json")
	return writeTar(path, order, files)
}

// OCILayout writes an OCI image layout directory with one image.
func OCILayout(dir, refName string, layers []Layer) error {
	files := ociFiles(refName, layers)
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// OCIArchive writes an OCI layout as a tar archive.
func OCIArchive(path, refName string, layers []Layer) error {
	files := ociFiles(refName, layers)
	order := []string{"oci-layout", "index.json"}
	for n := range files {
		if n != "oci-layout" && n != "index.json" {
			order = append(order, n)
		}
	}
	return writeTar(path, order, files)
}

func ociFiles(refName string, layers []Layer) map[string][]byte {
	files := map[string][]byte{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`)}
	blob := func(b []byte) string {
		d := Digest(b)
		files["blobs/sha256/"+d[len("sha256:"):]] = b
		return d
	}
	cfg := Config(layers)
	var ls []map[string]any
	for _, l := range layers {
		mt := "application/vnd.oci.image.layer.v1.tar"
		if len(l.Blob) > 1 && l.Blob[0] == 0x1f && l.Blob[1] == 0x8b {
			mt += "+gzip"
		}
		ls = append(ls, map[string]any{"mediaType": mt, "digest": blob(l.Blob), "size": len(l.Blob)})
	}
	man, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(cfg), "size": len(cfg)},
		"layers":        ls,
	})
	md := blob(man)
	idx, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"manifests": []map[string]any{{
			"mediaType":   "application/vnd.oci.image.manifest.v1+json",
			"digest":      md,
			"size":        len(man),
			"annotations": map[string]string{"org.opencontainers.image.ref.name": refName},
		}},
	})
	files["index.json"] = idx
	return files
}

func writeTar(path string, order []string, files map[string][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	for _, n := range order {
		b := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}); err != nil {
			f.Close()
			return err
		}
		tw.Write(b)
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
