package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// BlobSource reads the blobs of stored images by digest: the registry's
// own blob storage, so that the server scans what it stores without
// pulling it over the network.
type BlobSource interface {
	OpenBlob(ctx context.Context, digest string) (io.ReadCloser, error)
}

// FromManifest opens the image whose manifest (an OCI image manifest or a
// Docker v2.2 manifest, as stored under digest) is content, reading its
// config now and its layers when walked from blobs. name is how reports
// name the image ("project/app@sha256:…").
func FromManifest(ctx context.Context, name, digest string, content []byte, blobs BlobSource) (*Image, error) {
	var m v1.Manifest
	if err := json.Unmarshal(content, &m); err != nil {
		return nil, fmt.Errorf("image manifest %s: %w", digest, err)
	}
	img := &Image{Kind: KindRegistry, Name: name, ManifestDigest: digest, ConfigDigest: m.Config.Digest.String()}
	for i, ld := range m.Layers {
		if !isLayerMediaType(ld.MediaType) {
			continue // artifacts and foreign layers, which the registry does not hold
		}
		d := ld.Digest.String()
		img.Layers = append(img.Layers, &Layer{
			Index:     len(img.Layers),
			Digest:    d,
			MediaType: string(ld.MediaType),
			Size:      ld.Size,
			open: func(ctx context.Context) (io.ReadCloser, error) {
				rc, err := blobs.OpenBlob(ctx, d)
				if err != nil {
					return nil, fmt.Errorf("layer %d (%s): %w", i+1, d, err)
				}
				return rc, nil
			},
		})
	}
	rc, err := blobs.OpenBlob(ctx, img.ConfigDigest)
	if err != nil {
		return nil, fmt.Errorf("image config %s: %w", img.ConfigDigest, err)
	}
	raw, err := io.ReadAll(io.LimitReader(rc, maxMetadata+1))
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("image config %s: %w", img.ConfigDigest, err)
	}
	if len(raw) > maxMetadata {
		return nil, fmt.Errorf("image config %s: larger than %d MiB", img.ConfigDigest, maxMetadata>>20)
	}
	if err := img.parseConfig(raw); err != nil {
		return nil, err
	}
	return img, nil
}
