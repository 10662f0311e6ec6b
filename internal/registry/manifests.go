package registry

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/seawall-dev/seawall/internal/blob"
	"github.com/seawall-dev/seawall/internal/store"
)

// maxTagParams bounds the ?tag= parameters of one manifest PUT.
const maxTagParams = 100

// getManifest serves GET and HEAD /v2/<name>/manifests/<reference>. The
// manifest is returned exactly as pushed, with its pushed media type,
// whatever the Accept header says: Seawall does not convert formats.
func (reg *Registry) getManifest(w http.ResponseWriter, r *http.Request, req *request) error {
	ref, err := parseReference(req.Ref)
	if err != nil {
		if ref.Digest == "" && !isDigestError(err) {
			return errorf(404, CodeManifestUnknown, "manifest unknown: %q is not a valid tag", truncate(req.Ref, 200))
		}
		return err
	}
	ctx := r.Context()
	dg := ref.Digest
	if ref.Tag != "" {
		s, err := reg.store.ResolveTag(ctx, req.Name, ref.Tag)
		if err != nil {
			return reg.manifestNotFound(r, req.Name, ref, err)
		}
		dg = blob.Digest(s)
	}
	m, err := reg.store.Manifest(ctx, req.Name, string(dg))
	if err != nil {
		return reg.manifestNotFound(r, req.Name, ref, err)
	}
	var ev ManifestEvent
	if r.Method == http.MethodGet && (reg.hooks.AllowPull != nil || reg.hooks.OnPull != nil) {
		ev = manifestEvent(req.Name, m)
		if ref.Tag != "" {
			ev.Tags = []string{ref.Tag}
		}
		if reg.hooks.AllowPull != nil {
			if err := reg.hooks.AllowPull(r, ev); err != nil {
				return err
			}
		}
	}
	h := w.Header()
	etag := `"` + m.Digest + `"`
	h.Set("Docker-Content-Digest", m.Digest)
	h.Set("ETag", etag)
	if ref.Digest != "" {
		h.Set("Cache-Control", "max-age=31536000, immutable")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && match == etag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", m.MediaType)
	h.Set("Content-Length", strconv.Itoa(len(m.Content)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		n, _ := w.Write(m.Content)
		reg.stats.bytesPulled.Add(int64(n))
		if reg.hooks.OnPull != nil {
			reg.hooks.OnPull(r, ev)
		}
	}
	return nil
}

// manifestEvent describes a stored manifest for the hooks.
func manifestEvent(repo string, m *store.Manifest) ManifestEvent {
	kind, children := DescribeManifest(m.MediaType, m.Content)
	return ManifestEvent{
		Repository:   repo,
		Digest:       m.Digest,
		Kind:         kind,
		MediaType:    m.MediaType,
		ArtifactType: m.ArtifactType,
		Subject:      m.Subject,
		Size:         m.Size,
		Children:     children,
	}
}

// allowTags asks the AllowTag hook about pointing each tag at next.
func (reg *Registry) allowTags(r *http.Request, repo string, tags []string, next string) error {
	if reg.hooks.AllowTag == nil {
		return nil
	}
	for _, t := range tags {
		prev, err := reg.store.ResolveTag(r.Context(), repo, t)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("resolve tag %s:%s: %w", repo, t, err)
		}
		if err := reg.hooks.AllowTag(r, repo, t, prev, next); err != nil {
			return err
		}
	}
	return nil
}

func isDigestError(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == CodeDigestInvalid
}

// manifestNotFound turns a store miss into MANIFEST_UNKNOWN, or
// NAME_UNKNOWN when the repository itself does not exist.
func (reg *Registry) manifestNotFound(r *http.Request, name string, ref reference, err error) error {
	if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("manifest %s@%s: %w", name, ref, err)
	}
	if _, rerr := reg.store.RepositoryByName(r.Context(), name); errors.Is(rerr, store.ErrNotFound) {
		return errorf(404, CodeNameUnknown, "repository %s is not known to the registry", name)
	}
	return errorf(404, CodeManifestUnknown, "manifest %s is not in repository %s", ref, name)
}

// putManifest serves PUT /v2/<name>/manifests/<reference>[?tag=…].
func (reg *Registry) putManifest(w http.ResponseWriter, r *http.Request, req *request) error {
	ctx := r.Context()
	ref, err := parseReference(req.Ref)
	if err != nil {
		return err
	}
	tags := r.URL.Query()["tag"]
	if len(tags) > maxTagParams {
		return errorf(400, CodeManifestInvalid, "too many tag parameters: at most %d", maxTagParams)
	}
	for _, t := range tags {
		if !ValidTag(t) {
			return errorf(400, CodeManifestInvalid, "invalid tag %q", truncate(t, 200))
		}
	}
	if ref.Tag != "" {
		tags = append([]string{ref.Tag}, tags...)
	}

	body, err := reg.readManifest(r)
	if err != nil {
		return err
	}
	parsed, err := ParseManifest(r.Header.Get("Content-Type"), body)
	if err != nil {
		return newError(400, CodeManifestInvalid, err.Error())
	}
	alg := blob.SHA256
	if ref.Digest != "" {
		alg = ref.Digest.Algorithm()
	}
	dg, err := blob.FromBytes(alg, body)
	if err != nil {
		return newError(400, CodeDigestInvalid, err.Error())
	}
	if ref.Digest != "" && dg != ref.Digest {
		return errorf(400, CodeDigestInvalid, "manifest digest is %s, not %s as the URL says", dg, ref.Digest)
	}

	repo, err := reg.store.EnsureRepository(ctx, req.Name)
	if err != nil {
		return storeErr(err, errorf(404, CodeNameUnknown, "cannot create repository %s: its project %s does not exist", req.Name, projectOf(req.Name)))
	}
	// Hold the referenced blobs against a concurrent garbage collection
	// from the existence check until the manifest is stored.
	release := reg.gc.protect(parsed.Blobs...)
	defer release()
	if err := reg.checkReferences(r, req.Name, parsed); err != nil {
		return err
	}
	if err := reg.allowTags(r, req.Name, tags, string(dg)); err != nil {
		return err
	}
	m := &store.Manifest{
		RepositoryID: repo.ID,
		Digest:       string(dg),
		MediaType:    parsed.MediaType,
		ArtifactType: parsed.ArtifactType,
		Size:         int64(len(body)),
		Content:      body,
		Subject:      string(parsed.Subject),
		Annotations:  parsed.Annotations,
		CreatedAt:    reg.now().UTC(),
	}
	refs := make([]string, 0, len(parsed.Blobs)+len(parsed.Manifests))
	for _, d := range parsed.Blobs {
		refs = append(refs, string(d))
	}
	for _, d := range parsed.Manifests {
		refs = append(refs, string(d))
	}
	first := ""
	if len(tags) > 0 {
		first = tags[0]
	}
	for i, t := range append([]string{first}, tags[min(1, len(tags)):]...) {
		if i > 0 && t == first {
			continue
		}
		if err := reg.store.PutManifest(ctx, m, refs, t); err != nil {
			if errors.Is(err, store.ErrInvalid) {
				return newError(400, CodeManifestInvalid, "the manifest holds a value the store cannot keep").with(err)
			}
			return storeErr(err, nil)
		}
	}
	reg.stats.bytesPushed.Add(int64(len(body)))
	reg.log.InfoContext(ctx, "manifest pushed", "repository", req.Name, "digest", dg, "tags", tags, "mediaType", parsed.MediaType)
	if reg.hooks.OnPush != nil {
		ev := manifestEvent(req.Name, m)
		ev.Tags = tags
		reg.hooks.OnPush(r, ev)
	}

	h := w.Header()
	h.Set("Location", "/v2/"+req.Name+"/manifests/"+string(dg))
	h.Set("Docker-Content-Digest", string(dg))
	if parsed.Subject != "" {
		h.Set("OCI-Subject", string(parsed.Subject))
	}
	if len(r.URL.Query()["tag"]) > 0 {
		for _, t := range tags {
			h.Add("OCI-Tag", t)
		}
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// readManifest reads a manifest body, refusing anything over the size cap
// before reading it when the client announces its length.
func (reg *Registry) readManifest(r *http.Request) ([]byte, error) {
	tooBig := errorf(http.StatusRequestEntityTooLarge, CodeManifestInvalid, "manifest is larger than the registry's limit of %d bytes", reg.maxManifest)
	tooBig.Detail = map[string]int64{"limit": reg.maxManifest}
	if r.ContentLength > reg.maxManifest {
		return nil, tooBig
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, reg.maxManifest+1))
	if err != nil {
		return nil, newError(400, CodeManifestInvalid, "could not read the manifest body").with(err)
	}
	if int64(len(body)) > reg.maxManifest {
		return nil, tooBig
	}
	if len(body) == 0 {
		return nil, newError(400, CodeManifestInvalid, "empty manifest body")
	}
	return body, nil
}

// checkReferences makes sure every blob and child manifest a manifest
// names is in the repository (and, for blobs, really stored).
func (reg *Registry) checkReferences(r *http.Request, name string, m *Manifest) error {
	ctx := r.Context()
	for _, d := range m.Blobs {
		missing := errorf(400, CodeManifestBlobUnknown, "blob %s is not in repository %s; push it first", d, name)
		missing.Detail = map[string]string{"digest": string(d)}
		if _, err := reg.store.BlobSize(ctx, name, string(d)); err != nil {
			return storeErr(err, missing)
		}
		if _, err := reg.blobs.Stat(ctx, d); err != nil {
			if errors.Is(err, blob.ErrNotFound) {
				return missing.with(err)
			}
			return fmt.Errorf("stat blob %s: %w", d, err)
		}
	}
	for _, d := range m.Manifests {
		missing := errorf(400, CodeManifestUnknown, "manifest %s is not in repository %s; push it before the index", d, name)
		missing.Detail = map[string]string{"digest": string(d)}
		if _, err := reg.store.Manifest(ctx, name, string(d)); err != nil {
			return storeErr(err, missing)
		}
	}
	return nil
}

// deleteManifest serves DELETE /v2/<name>/manifests/<reference>: a digest
// deletes the manifest (and its tags), a tag deletes only the tag.
func (reg *Registry) deleteManifest(w http.ResponseWriter, r *http.Request, req *request) error {
	ref, err := parseReference(req.Ref)
	if err != nil {
		if !isDigestError(err) {
			return errorf(404, CodeManifestUnknown, "manifest unknown: %q is not a valid tag", truncate(req.Ref, 200))
		}
		return err
	}
	ctx := r.Context()
	ev := ManifestEvent{Repository: req.Name, Digest: string(ref.Digest)}
	if ref.Tag != "" {
		ev.Tags = []string{ref.Tag}
		if reg.hooks.AllowTag != nil || reg.hooks.OnDelete != nil {
			d, err := reg.store.ResolveTag(ctx, req.Name, ref.Tag)
			if err != nil {
				return reg.manifestNotFound(r, req.Name, ref, err)
			}
			ev.Digest = d
			if reg.hooks.AllowTag != nil {
				if err := reg.hooks.AllowTag(r, req.Name, ref.Tag, d, ""); err != nil {
					return err
				}
			}
		}
		err = reg.store.DeleteTag(ctx, req.Name, ref.Tag)
	} else {
		if reg.hooks.AllowTag != nil {
			if err := reg.allowManifestDelete(r, req.Name, string(ref.Digest)); err != nil {
				return err
			}
		}
		err = reg.store.DeleteManifest(ctx, req.Name, string(ref.Digest))
	}
	if err != nil {
		return reg.manifestNotFound(r, req.Name, ref, err)
	}
	reg.log.InfoContext(ctx, "manifest deleted", "repository", req.Name, "reference", ref.String())
	if reg.hooks.OnDelete != nil {
		reg.hooks.OnDelete(r, ev)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// allowManifestDelete asks the AllowTag hook about every tag that
// deleting the manifest digest would remove.
func (reg *Registry) allowManifestDelete(r *http.Request, repo, digest string) error {
	ctx := r.Context()
	tags, err := reg.store.ListTags(ctx, repo, "", -1)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil // the delete answers 404
		}
		return fmt.Errorf("list tags of %s: %w", repo, err)
	}
	for _, t := range tags {
		d, err := reg.store.ResolveTag(ctx, repo, t)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("resolve tag %s:%s: %w", repo, t, err)
		}
		if d != digest {
			continue
		}
		if err := reg.hooks.AllowTag(r, repo, t, d, ""); err != nil {
			return err
		}
	}
	return nil
}

func projectOf(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return name[:i]
		}
	}
	return name
}
