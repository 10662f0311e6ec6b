// Package image opens container images and root filesystems from every
// place they live (docker archives, OCI layouts and archives, registries,
// directories and tarballs) and walks their files once, applying layer
// whiteouts exactly as a container runtime does.
package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Source kinds.
const (
	KindDockerArchive = "docker-archive"
	KindOCILayout     = "oci-layout"
	KindOCIArchive    = "oci-archive"
	KindRegistry      = "registry"
	KindRootfs        = "rootfs"
	KindDir           = "dir"
)

// Image is an opened image or tree, ready to walk.
type Image struct {
	Kind           string
	Name           string // as the user gave it
	ManifestDigest string
	ConfigDigest   string
	RepoTags       []string
	RepoDigests    []string
	Platform       string
	// Config is the image configuration; nil for root filesystems and directories.
	Config    *v1.ConfigFile
	RawConfig []byte
	Layers    []*Layer

	// tree is set for directory sources, which have no layers.
	tree string
	// skip lists absolute paths a directory walk does not enter.
	skip    map[string]bool
	closers []io.Closer
}

// Close releases the files the image holds open.
func (img *Image) Close() error {
	var first error
	for i := len(img.closers) - 1; i >= 0; i-- {
		if err := img.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	img.closers = nil
	return first
}

// Layer is one filesystem layer, bottom first.
type Layer struct {
	Index     int
	Digest    string // digest of the blob as stored (compressed)
	DiffID    string // digest of the uncompressed tar
	MediaType string
	Size      int64 // stored size, when known
	CreatedBy string

	// open returns the stored blob.
	open func(ctx context.Context) (io.ReadCloser, error)
	// at, when set, gives random access to the stored blob; the walk uses
	// it to seek past file content in uncompressed layers.
	at io.ReaderAt
}

// parseConfig decodes an image config and fills in the layers' DiffIDs and
// history. It tolerates a config with fewer diff IDs than layers (and says so).
func (img *Image) parseConfig(raw []byte) error {
	var cfg v1.ConfigFile
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("image config: %w", err)
	}
	img.Config = &cfg
	img.RawConfig = raw
	if len(cfg.RootFS.DiffIDs) != 0 && len(cfg.RootFS.DiffIDs) != len(img.Layers) {
		return fmt.Errorf("image config lists %d layer diff IDs but the manifest has %d layers", len(cfg.RootFS.DiffIDs), len(img.Layers))
	}
	for i, l := range img.Layers {
		if i < len(cfg.RootFS.DiffIDs) {
			l.DiffID = cfg.RootFS.DiffIDs[i].String()
		}
	}
	// History entries that are not empty layers line up with the layers.
	li := 0
	for _, h := range cfg.History {
		if h.EmptyLayer {
			continue
		}
		if li >= len(img.Layers) {
			break
		}
		img.Layers[li].CreatedBy = h.CreatedBy
		li++
	}
	if img.Platform == "" && cfg.OS != "" {
		img.Platform = platformString(&v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant})
	}
	return nil
}

func platformString(p *v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
