package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/seawall-dev/seawall/internal/blob"
	"github.com/seawall-dev/seawall/internal/store"
)

// maxMountSources bounds how many repositories an anonymous mount tries.
const maxMountSources = 64

// newUploadID returns 256 random bits, base64url: unguessable, and safe as
// a path segment and a file name.
func newUploadID() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func validUploadID(id string) bool {
	if len(id) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}

func uploadLocation(name, id string) string { return "/v2/" + name + "/blobs/uploads/" + id }
func blobLocation(name string, d blob.Digest) string {
	return "/v2/" + name + "/blobs/" + string(d)
}

// uploadRange is the Range header for an upload holding n bytes. Like the
// reference registry it says "0-0" for an empty upload.
func uploadRange(n int64) string {
	return "0-" + strconv.FormatInt(max(n-1, 0), 10)
}

// The hash state kept in store.Upload.HashState is "<alg>\x00<state>".
func encodeState(alg string, state []byte) []byte {
	return append(append([]byte(alg), 0), state...)
}

func decodeState(b []byte) (alg string, state []byte, err error) {
	i := bytes.IndexByte(b, 0)
	if i < 0 || !blob.SupportedAlgorithm(string(b[:i])) {
		return "", nil, errors.New("corrupt upload hash state")
	}
	return string(b[:i]), b[i+1:], nil
}

// startUpload serves POST /v2/<name>/blobs/uploads/: a cross-repository
// mount (?mount=&from=), a single-request upload (?digest=) or a new
// upload session.
func (reg *Registry) startUpload(w http.ResponseWriter, r *http.Request, req *request) error {
	q := r.URL.Query()
	if q.Has("mount") {
		done, err := reg.mount(w, r, req.Name, q.Get("mount"), q.Get("from"))
		if err != nil || done {
			return err
		}
		// Not mountable here: fall back to an upload session (202).
	} else if q.Has("digest") {
		return reg.monolithicPost(w, r, req.Name, q.Get("digest"))
	}
	alg := blob.SHA256
	if a := q.Get("digest-algorithm"); a != "" {
		if !blob.SupportedAlgorithm(a) {
			return errorf(400, CodeUnsupported, "digest algorithm %q is not supported: use sha256 or sha512", truncate(a, 50))
		}
		alg = a
	}
	ctx := r.Context()
	if err := reg.ensureRepository(ctx, req.Name); err != nil {
		return err
	}
	now := reg.now().UTC()
	u := &store.Upload{
		ID:         newUploadID(),
		Repository: req.Name,
		HashState:  encodeState(alg, nil),
		StartedAt:  now,
		UpdatedAt:  now,
	}
	if err := reg.store.CreateUpload(ctx, u); err != nil {
		return fmt.Errorf("create upload: %w", err)
	}
	h := w.Header()
	h.Set("Location", uploadLocation(req.Name, u.ID))
	h.Set("Range", uploadRange(0))
	h.Set("Docker-Upload-UUID", u.ID)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (reg *Registry) ensureRepository(ctx context.Context, name string) error {
	if _, err := reg.store.EnsureRepository(ctx, name); err != nil {
		return storeErr(err, errorf(404, CodeNameUnknown, "cannot create repository %s: its project %s does not exist", name, projectOf(name)))
	}
	return nil
}

// mount links a blob another repository holds into name, when the caller
// may pull from that repository. It returns false (and no error) when the
// client should get an ordinary upload session instead.
func (reg *Registry) mount(w http.ResponseWriter, r *http.Request, name, digest, from string) (bool, error) {
	d, err := parseDigest(digest)
	if err != nil {
		return false, err
	}
	ctx := r.Context()
	var sources []string
	switch {
	case from != "":
		if !ValidName(from) {
			return false, nil
		}
		sources = []string{from}
	default:
		// No source given: any repository holding the blob that the
		// caller may pull from will do.
		repos, err := reg.store.BlobRepositories(ctx, string(d))
		if err != nil {
			return false, fmt.Errorf("locate blob %s: %w", d, err)
		}
		sources = repos[:min(len(repos), maxMountSources)]
	}
	for _, src := range sources {
		// A refusal here is not the client's error: it just cannot mount.
		if err := reg.auth.Authorize(r, src, ActionPull); err != nil {
			continue
		}
		if _, err := reg.store.BlobSize(ctx, src, string(d)); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return false, fmt.Errorf("mount: %w", err)
		}
		release := reg.gc.protect(d)
		info, err := reg.blobs.Stat(ctx, d)
		if err != nil {
			release()
			if errors.Is(err, blob.ErrNotFound) {
				continue
			}
			return false, fmt.Errorf("mount: %w", err)
		}
		err = reg.link(ctx, name, d, info.Size)
		release()
		if err != nil {
			return false, err
		}
		reg.log.DebugContext(ctx, "blob mounted", "repository", name, "from", src, "digest", d)
		created(w, name, d)
		return true, nil
	}
	return false, nil
}

func (reg *Registry) link(ctx context.Context, name string, d blob.Digest, size int64) error {
	if err := reg.ensureRepository(ctx, name); err != nil {
		return err
	}
	if err := reg.store.LinkBlob(ctx, name, string(d), size); err != nil {
		return fmt.Errorf("link blob %s into %s: %w", d, name, err)
	}
	return nil
}

// created answers a finished blob upload or mount.
func created(w http.ResponseWriter, name string, d blob.Digest) {
	h := w.Header()
	h.Set("Location", blobLocation(name, d))
	h.Set("Docker-Content-Digest", string(d))
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// monolithicPost serves POST ?digest=: the whole blob in one request.
func (reg *Registry) monolithicPost(w http.ResponseWriter, r *http.Request, name, digest string) error {
	d, err := parseDigest(digest)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := reg.ensureRepository(ctx, name); err != nil {
		return err
	}
	// The upload is never recorded as a session: a crash leaves an
	// orphaned file that garbage collection removes.
	id := newUploadID()
	bw, err := reg.uploads.Writer(ctx, id, blob.Resume{Algorithm: d.Algorithm()})
	if err != nil {
		return fmt.Errorf("start upload: %w", err)
	}
	defer func() {
		bw.Close()
		reg.uploads.Remove(context.WithoutCancel(ctx), id)
	}()
	if _, err := reg.receive(bw, r, -1); err != nil {
		return err
	}
	return reg.commit(w, r, name, bw, d)
}

// commit verifies and stores a finished upload and links it into name.
func (reg *Registry) commit(w http.ResponseWriter, r *http.Request, name string, bw blob.Writer, d blob.Digest) error {
	ctx := r.Context()
	release := reg.gc.protect(d)
	defer release()
	info, err := bw.Commit(ctx, d)
	if err != nil {
		if errors.Is(err, blob.ErrDigestMismatch) {
			return newError(400, CodeDigestInvalid, err.Error())
		}
		return fmt.Errorf("commit blob %s: %w", d, err)
	}
	if err := reg.link(ctx, name, d, info.Size); err != nil {
		return err
	}
	reg.log.DebugContext(ctx, "blob pushed", "repository", name, "digest", d, "size", info.Size)
	created(w, name, d)
	return nil
}

// session loads upload id of repository name. A session of another
// repository is as unknown as a missing one.
func (reg *Registry) session(ctx context.Context, name, id string) (*store.Upload, error) {
	unknown := errorf(404, CodeBlobUploadUnknown, "upload %s is not known to repository %s; start a new one with POST", truncate(id, 64), name)
	if !validUploadID(id) {
		return nil, unknown
	}
	u, err := reg.store.Upload(ctx, id)
	if err != nil {
		return nil, storeErr(err, unknown)
	}
	if u.Repository != name || reg.now().Sub(u.UpdatedAt) > reg.uploadTTL {
		return nil, unknown
	}
	return u, nil
}

// uploadStatus serves GET /v2/<name>/blobs/uploads/<id>: where to resume.
func (reg *Registry) uploadStatus(w http.ResponseWriter, r *http.Request, req *request) error {
	u, err := reg.session(r.Context(), req.Name, req.Ref)
	if err != nil {
		return err
	}
	progress(w.Header(), req.Name, u)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func progress(h http.Header, name string, u *store.Upload) {
	h.Set("Location", uploadLocation(name, u.ID))
	h.Set("Range", uploadRange(u.Offset))
	h.Set("Docker-Upload-UUID", u.ID)
	h.Set("Content-Length", "0")
}

// rangeNotSatisfiable is the 416 for a chunk that does not start where the
// upload ends; its headers tell the client where that is.
func rangeNotSatisfiable(name string, u *store.Upload, msg string) error {
	e := newError(http.StatusRequestedRangeNotSatisfiable, CodeBlobUploadInvalid, msg)
	e.Header = http.Header{}
	progress(e.Header, name, u)
	e.Header.Del("Content-Length")
	return e
}

// chunkRange reads a PATCH or PUT's Content-Range ("<start>-<end>",
// inclusive) and checks it continues the upload. It returns the chunk's
// length, or -1 when the request has no Content-Range (a stream).
func chunkRange(r *http.Request, name string, u *store.Upload) (int64, error) {
	cr := r.Header.Get("Content-Range")
	if cr == "" {
		return -1, nil
	}
	start, end, ok := parseContentRange(cr)
	if !ok {
		return 0, errorf(400, CodeBlobUploadInvalid, "invalid Content-Range %q: want <start>-<end>", truncate(cr, 100))
	}
	if start != u.Offset {
		return 0, rangeNotSatisfiable(name, u, fmt.Sprintf("chunk starts at %d but the upload has %d bytes; resume at %d", start, u.Offset, u.Offset))
	}
	n := end - start + 1
	if r.ContentLength >= 0 && r.ContentLength != n {
		return 0, errorf(400, CodeSizeInvalid, "Content-Range says %d bytes, Content-Length says %d", n, r.ContentLength)
	}
	return n, nil
}

// parseContentRange accepts "start-end", also with a "bytes " or "bytes="
// prefix and a "/total" suffix, as some clients send.
func parseContentRange(s string) (start, end int64, ok bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "bytes="), "bytes ")
	s, _, _ = strings.Cut(s, "/")
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := parseUint(a)
	end, err2 := parseUint(b)
	if err1 != nil || err2 != nil || end < start {
		return 0, 0, false
	}
	return start, end, true
}

func parseUint(s string) (int64, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, errors.New("not a number")
	}
	return strconv.ParseInt(s, 10, 64)
}

// writer opens the session's partial upload where it ends.
func (reg *Registry) writer(ctx context.Context, name string, u *store.Upload) (blob.Writer, error) {
	alg, state, err := decodeState(u.HashState)
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", u.ID, err)
	}
	bw, err := reg.uploads.Writer(ctx, u.ID, blob.Resume{Algorithm: alg, Offset: u.Offset, State: state})
	if errors.Is(err, blob.ErrOffset) {
		// The partial upload lost bytes (a crash before they reached the
		// disk): it cannot continue.
		reg.dropSession(ctx, u.ID)
		return nil, errorf(404, CodeBlobUploadUnknown, "upload %s lost data and was discarded; start a new one", u.ID).with(err)
	}
	if err != nil {
		return nil, fmt.Errorf("open upload: %w", err)
	}
	return bw, nil
}

// patchUpload serves PATCH /v2/<name>/blobs/uploads/<id>: a chunk (with
// Content-Range) or a stream (without).
func (reg *Registry) patchUpload(w http.ResponseWriter, r *http.Request, req *request) error {
	ctx := r.Context()
	defer reg.locks.lock(req.Ref)()
	u, err := reg.session(ctx, req.Name, req.Ref)
	if err != nil {
		return err
	}
	n, err := chunkRange(r, req.Name, u)
	if err != nil {
		return err
	}
	bw, err := reg.writer(ctx, req.Name, u)
	if err != nil {
		return err
	}
	defer bw.Close()
	_, rerr := reg.receive(bw, r, n)
	if rerr != nil && n >= 0 {
		// A chunk is all or nothing; the next request overwrites it.
		return rerr
	}
	// A stream keeps whatever arrived before it broke, so the client can
	// resume from there.
	if err := reg.saveProgress(ctx, u, bw); err != nil {
		return err
	}
	if rerr != nil {
		return rerr
	}
	progress(w.Header(), req.Name, u)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (reg *Registry) saveProgress(ctx context.Context, u *store.Upload, bw blob.Writer) error {
	if bw.Size() == u.Offset {
		return nil
	}
	alg, _, _ := decodeState(u.HashState)
	state, err := bw.Flush()
	if err != nil {
		return fmt.Errorf("flush upload %s: %w", u.ID, err)
	}
	u.Offset = bw.Size()
	u.HashState = encodeState(alg, state)
	u.UpdatedAt = reg.now().UTC()
	if err := reg.store.UpdateUpload(context.WithoutCancel(ctx), u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			// Another replica moved the upload on: tell the client where it is.
			if cur, cerr := reg.store.Upload(ctx, u.ID); cerr == nil {
				return rangeNotSatisfiable(cur.Repository, cur, "the upload was changed by another request; resume where it ends")
			}
		}
		return fmt.Errorf("record upload %s progress: %w", u.ID, err)
	}
	return nil
}

// finishUpload serves PUT /v2/<name>/blobs/uploads/<id>?digest=: the last
// chunk (optional) and the commit.
func (reg *Registry) finishUpload(w http.ResponseWriter, r *http.Request, req *request) error {
	ctx := r.Context()
	defer reg.locks.lock(req.Ref)()
	u, err := reg.session(ctx, req.Name, req.Ref)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if !q.Has("digest") {
		return newError(400, CodeDigestInvalid, "the digest query parameter is required to finish an upload")
	}
	d, err := parseDigest(q.Get("digest"))
	if err != nil {
		return err
	}
	n, err := chunkRange(r, req.Name, u)
	if err != nil {
		return err
	}
	bw, err := reg.writer(ctx, req.Name, u)
	if err != nil {
		return err
	}
	defer bw.Close()
	if r.ContentLength != 0 {
		if _, err := reg.receive(bw, r, n); err != nil {
			return err
		}
	}
	if err := reg.commit(w, r, req.Name, bw, d); err != nil {
		if isDigestError(err) {
			// The client said it was done and the bytes are wrong: the
			// session cannot succeed any more.
			reg.dropSession(ctx, u.ID)
		}
		return err
	}
	reg.dropSession(ctx, u.ID)
	return nil
}

// cancelUpload serves DELETE /v2/<name>/blobs/uploads/<id>.
func (reg *Registry) cancelUpload(w http.ResponseWriter, r *http.Request, req *request) error {
	ctx := r.Context()
	defer reg.locks.lock(req.Ref)()
	u, err := reg.session(ctx, req.Name, req.Ref)
	if err != nil {
		return err
	}
	if err := reg.dropSession(ctx, u.ID); err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// dropSession removes an upload's bytes and its session.
func (reg *Registry) dropSession(ctx context.Context, id string) error {
	ctx = context.WithoutCancel(ctx)
	if err := reg.uploads.Remove(ctx, id); err != nil {
		return fmt.Errorf("remove upload %s: %w", id, err)
	}
	if err := reg.store.DeleteUpload(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete upload %s: %w", id, err)
	}
	return nil
}

// receive copies the request body into bw: exactly n bytes when n >= 0,
// else all of it. Errors reading the body are the client's (400); errors
// writing are the server's.
func (reg *Registry) receive(bw blob.Writer, r *http.Request, n int64) (int64, error) {
	reg.stats.activeUploads.Add(1)
	defer reg.stats.activeUploads.Add(-1)
	bufp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bufp)
	body := &readErrReader{r: r.Body}
	var src io.Reader = body
	if n >= 0 {
		src = io.LimitReader(body, n)
	}
	got, err := io.CopyBuffer(struct{ io.Writer }{bw}, src, *bufp)
	reg.stats.bytesPushed.Add(got)
	switch {
	case body.err != nil:
		return got, newError(400, CodeSizeInvalid, "could not read the request body; check Content-Length").with(body.err)
	case err != nil:
		return got, fmt.Errorf("write upload: %w", err)
	case n >= 0 && got != n:
		return got, errorf(400, CodeSizeInvalid, "received %d bytes, expected %d", got, n)
	}
	return got, nil
}

var copyBuffers = sync.Pool{New: func() any {
	b := make([]byte, 1<<20)
	return &b
}}

// readErrReader remembers a read error other than io.EOF.
type readErrReader struct {
	r   io.Reader
	err error
}

func (e *readErrReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
