package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/seawall-dev/seawall/internal/blob"
)

// Manifest media types the registry accepts.
const (
	MediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
)

var manifestTypes = map[string]bool{
	MediaTypeOCIManifest:    true,
	MediaTypeOCIIndex:       true,
	MediaTypeDockerManifest: true,
	MediaTypeDockerList:     true,
}

// descriptor is an OCI content descriptor, as much of it as the registry
// checks.
type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	URLs         []string          `json:"urls,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Data         []byte            `json:"data,omitempty"`
}

// manifestJSON covers image manifests and indexes of both OCI and Docker;
// unknown fields are allowed and kept verbatim (the stored bytes are the
// received bytes).
type manifestJSON struct {
	SchemaVersion *int              `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *descriptor       `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Manifests     []descriptor      `json:"manifests"`
	Subject       *descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

// Manifest is what the registry learns from a manifest it validated.
type Manifest struct {
	MediaType    string
	ArtifactType string
	// Blobs must exist in the repository: the config and the layers, less
	// non-distributable layers, which live elsewhere.
	Blobs []blob.Digest
	// Manifests must exist in the repository: an index's children.
	Manifests   []blob.Digest
	Subject     blob.Digest // "" without a subject
	Annotations map[string]string
}

// ParseManifest validates a manifest body received with the given
// Content-Type. It accepts OCI image manifests and indexes and Docker v2.2
// manifests and manifest lists, and returns what must exist for the
// manifest to be stored. The error message is fit for the client.
func ParseManifest(contentType string, body []byte) (*Manifest, error) {
	var m manifestJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("manifest has data after the JSON object")
	}
	if m.SchemaVersion == nil || *m.SchemaVersion != 2 {
		return nil, errors.New("manifest schemaVersion must be 2 (Docker schema 1 is not supported)")
	}
	ct := baseMediaType(contentType)
	mt := m.MediaType
	switch {
	case mt != "" && ct != "" && ct != mt:
		return nil, fmt.Errorf("Content-Type %q does not match the manifest's mediaType %q", ct, mt)
	case mt == "":
		mt = ct
	}
	if mt == "" {
		// Neither says: an OCI manifest may omit mediaType, so go by shape.
		if m.Manifests != nil {
			mt = MediaTypeOCIIndex
		} else {
			mt = MediaTypeOCIManifest
		}
	}
	if !manifestTypes[mt] {
		return nil, fmt.Errorf("unsupported manifest media type %q: use an OCI image manifest or index, or a Docker v2.2 manifest or manifest list", mt)
	}
	if err := checkText(m.ArtifactType, m.Annotations); err != nil {
		return nil, err
	}
	out := &Manifest{MediaType: mt, ArtifactType: m.ArtifactType, Annotations: m.Annotations}
	switch mt {
	case MediaTypeOCIManifest, MediaTypeDockerManifest:
		if m.Config == nil {
			return nil, errors.New("image manifest has no config descriptor")
		}
		d, err := checkDescriptor("config", m.Config)
		if err != nil {
			return nil, err
		}
		out.Blobs = append(out.Blobs, d)
		if out.ArtifactType == "" {
			out.ArtifactType = m.Config.MediaType
			if err := checkText(out.ArtifactType, nil); err != nil {
				return nil, fmt.Errorf("config mediaType: %w", err)
			}
		}
		for i := range m.Layers {
			d, err := checkDescriptor(fmt.Sprintf("layers[%d]", i), &m.Layers[i])
			if err != nil {
				return nil, err
			}
			if !nonDistributable(m.Layers[i].MediaType) {
				out.Blobs = append(out.Blobs, d)
			}
		}
		if m.Manifests != nil {
			return nil, errors.New("image manifest has a manifests field; push it as an index")
		}
	case MediaTypeOCIIndex, MediaTypeDockerList:
		if m.Config != nil || m.Layers != nil {
			return nil, errors.New("index has a config or layers field; push it as an image manifest")
		}
		for i := range m.Manifests {
			d, err := checkDescriptor(fmt.Sprintf("manifests[%d]", i), &m.Manifests[i])
			if err != nil {
				return nil, err
			}
			out.Manifests = append(out.Manifests, d)
		}
	}
	if m.Subject != nil {
		d, err := checkDescriptor("subject", m.Subject)
		if err != nil {
			return nil, err
		}
		out.Subject = d
	}
	return out, nil
}

// checkText refuses NUL characters in the strings the store keeps (JSON
// allows "\u0000"; PostgreSQL text does not).
func checkText(artifactType string, annotations map[string]string) error {
	if strings.ContainsRune(artifactType, 0) {
		return errors.New("artifactType contains a NUL character")
	}
	for k, v := range annotations {
		if strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0) {
			return errors.New("an annotation contains a NUL character")
		}
	}
	return nil
}

func checkDescriptor(field string, d *descriptor) (blob.Digest, error) {
	dg, err := blob.ParseDigest(d.Digest)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	if d.Size < 0 {
		return "", fmt.Errorf("%s: negative size %d", field, d.Size)
	}
	if d.Data != nil {
		// Embedded data must be the content the descriptor names.
		if int64(len(d.Data)) != d.Size {
			return "", fmt.Errorf("%s: data is %d bytes, size says %d", field, len(d.Data), d.Size)
		}
		if got, _ := blob.FromBytes(dg.Algorithm(), d.Data); got != dg {
			return "", fmt.Errorf("%s: data does not match digest %s", field, dg)
		}
	}
	return dg, nil
}

// nonDistributable layers are fetched from their URLs, not the registry, so
// they need not have been pushed.
func nonDistributable(mediaType string) bool {
	return strings.Contains(mediaType, ".nondistributable.") ||
		strings.HasPrefix(mediaType, "application/vnd.docker.image.rootfs.foreign.")
}

// baseMediaType strips parameters and case from a Content-Type.
func baseMediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, _, _ = strings.Cut(ct, ";")
	}
	return strings.ToLower(strings.TrimSpace(mt))
}
