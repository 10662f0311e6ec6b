package registry

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/seawall-dev/seawall/internal/blob"
	"github.com/seawall-dev/seawall/internal/store"
)

// getBlob serves GET and HEAD /v2/<name>/blobs/<digest>, with Range
// requests (206, and 416 for unsatisfiable ranges). A blob is readable only
// through a repository that holds it.
func (reg *Registry) getBlob(w http.ResponseWriter, r *http.Request, req *request) error {
	d, err := parseDigest(req.Ref)
	if err != nil {
		return err
	}
	ctx := r.Context()
	unknown := errorf(404, CodeBlobUnknown, "blob %s is not in repository %s", d, req.Name)
	if _, err := reg.store.BlobSize(ctx, req.Name, string(d)); err != nil {
		return storeErr(err, unknown)
	}
	f, err := reg.blobs.Open(ctx, d)
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return unknown.with(err)
		}
		return fmt.Errorf("open blob %s: %w", d, err)
	}
	defer f.Close()
	h := w.Header()
	h.Set("Docker-Content-Digest", string(d))
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+string(d)+`"`)
	h.Set("Cache-Control", "max-age=31536000, immutable")
	cw := &countingWriter{ResponseWriter: w}
	// ServeContent answers Range, If-Range and If-None-Match, and sends an
	// *os.File with sendfile.
	http.ServeContent(cw, r, "", time.Time{}, f)
	reg.stats.bytesPulled.Add(cw.n)
	return nil
}

// deleteBlob serves DELETE /v2/<name>/blobs/<digest>: it removes the blob
// from the repository. The bytes stay until garbage collection finds no
// repository manifest referencing them.
func (reg *Registry) deleteBlob(w http.ResponseWriter, r *http.Request, req *request) error {
	d, err := parseDigest(req.Ref)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := reg.store.UnlinkBlob(ctx, req.Name, string(d)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errorf(404, CodeBlobUnknown, "blob %s is not in repository %s", d, req.Name).with(err)
		}
		return fmt.Errorf("unlink blob: %w", err)
	}
	reg.log.InfoContext(ctx, "blob deleted", "repository", req.Name, "digest", d)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// countingWriter counts body bytes and keeps the underlying writer's
// ReadFrom, so that sendfile still applies.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) ReadFrom(src io.Reader) (int64, error) {
	if rf, ok := c.ResponseWriter.(io.ReaderFrom); ok {
		n, err := rf.ReadFrom(src)
		c.n += n
		return n, err
	}
	n, err := io.Copy(struct{ io.Writer }{c.ResponseWriter}, src)
	c.n += n
	return n, err
}

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
