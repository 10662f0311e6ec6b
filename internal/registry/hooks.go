package registry

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ManifestKind says what a manifest is, for policy: only images (and
// indexes of images) run, so only they are scanned and gated.
type ManifestKind string

// Manifest kinds.
const (
	// KindImage is an OCI or Docker image manifest whose config is an
	// image config and whose layers are all filesystem layers.
	KindImage ManifestKind = "image"
	// KindIndex is an OCI image index or a Docker manifest list.
	KindIndex ManifestKind = "index"
	// KindArtifact is anything else: cosign signatures and attestations,
	// SBOM attachments, Helm charts …
	KindArtifact ManifestKind = "artifact"
)

// ManifestEvent describes a manifest a request pushed, pulled or deleted.
type ManifestEvent struct {
	Repository string
	Digest     string
	// Tags are, for a push, the tags set; for a pull, the tag in the URL;
	// for a delete, the tag deleted. Empty when the request named a digest.
	Tags         []string
	Kind         ManifestKind
	MediaType    string
	ArtifactType string
	Subject      string
	Size         int64
	// Children are an index's manifests.
	Children []string
}

// Hooks add policy and notifications to the registry. Every field is
// optional. Each is called with the request, so that the caller can tell
// who is asking (through its Authorizer's request context).
type Hooks struct {
	// AllowPull is asked before a GET sends a manifest; never for HEAD.
	// A *PolicyError refuses the pull (412 unless it says otherwise);
	// another error is a server error.
	AllowPull func(r *http.Request, m ManifestEvent) error
	// AllowTag is asked before a request points tag in repo at digest
	// next (a PUT), or removes it (next is "": a tag DELETE, or a manifest
	// DELETE that takes its tags along). prev is the digest the tag points
	// at now, "" for a new tag. A *PolicyError refuses.
	AllowTag func(r *http.Request, repo, tag, prev, next string) error
	// OnPush, OnPull and OnDelete are told after a manifest was stored,
	// sent or deleted. They must return quickly.
	OnPush   func(r *http.Request, e ManifestEvent)
	OnPull   func(r *http.Request, e ManifestEvent)
	OnDelete func(r *http.Request, e ManifestEvent)
}

// PolicyError is a refusal by a policy hook. The client gets the OCI error
// body {"errors":[{"code": Code, "message": Message, "detail": Detail}]}.
type PolicyError struct {
	Status  int    // 0 means 412 Precondition Failed
	Code    string // "" means DENIED
	Policy  string // the rule that refused
	Message string
	Detail  any
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("refused by policy %s: %s", e.Policy, e.Message)
}

// registryError is e as the registry renders it.
func (e *PolicyError) registryError() *Error {
	status, code := e.Status, e.Code
	if status == 0 {
		status = http.StatusPreconditionFailed
	}
	if code == "" {
		code = CodeDenied
	}
	return &Error{Status: status, Code: code, Message: e.Message, Detail: e.Detail, Err: e}
}

// Layer and config media types of runnable images.
var imageConfigTypes = map[string]bool{
	"application/vnd.oci.image.config.v1+json":       true,
	"application/vnd.docker.container.image.v1+json": true,
}

// isFilesystemLayer reports whether a layer media type is a filesystem
// layer (OCI or Docker, any compression, non-distributable included).
func isFilesystemLayer(mt string) bool {
	return strings.HasPrefix(mt, "application/vnd.oci.image.layer.") ||
		strings.HasPrefix(mt, "application/vnd.docker.image.rootfs.")
}

// DescribeManifest classifies a stored manifest and lists an index's
// children. content must be a manifest the registry accepted.
func DescribeManifest(mediaType string, content []byte) (ManifestKind, []string) {
	var m manifestJSON
	if err := json.Unmarshal(content, &m); err != nil {
		return KindArtifact, nil
	}
	switch mediaType {
	case MediaTypeOCIIndex, MediaTypeDockerList:
		children := make([]string, 0, len(m.Manifests))
		for _, d := range m.Manifests {
			children = append(children, d.Digest)
		}
		return KindIndex, children
	case MediaTypeOCIManifest, MediaTypeDockerManifest:
	default:
		return KindArtifact, nil
	}
	if m.ArtifactType != "" || m.Config == nil || !imageConfigTypes[m.Config.MediaType] {
		return KindArtifact, nil
	}
	for _, l := range m.Layers {
		if !isFilesystemLayer(l.MediaType) {
			return KindArtifact, nil
		}
	}
	return KindImage, nil
}
