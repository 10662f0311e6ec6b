package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/seawall-dev/seawall/internal/store"
)

// Pagination limits for tag and catalog listings.
const (
	maxPageSize = 10000 // largest n a client may ask for
	storePage   = 1000  // rows fetched from the store at a time
)

// base serves GET /v2/, the version check.
func (reg *Registry) base(w http.ResponseWriter, r *http.Request, req *request) error {
	return writeJSON(w, r, http.StatusOK, "application/json", struct{}{})
}

// page reads the n and last query parameters. n is -1 when absent.
func page(q url.Values) (n int, last string, err error) {
	n = -1
	if q.Has("n") {
		v, perr := strconv.Atoi(q.Get("n"))
		if perr != nil || v < 0 {
			return 0, "", errorf(400, CodeUnsupported, "invalid n %q: use a whole number from 0 to %d", truncate(q.Get("n"), 30), maxPageSize)
		}
		if v > maxPageSize {
			return 0, "", errorf(400, CodeUnsupported, "n is %d; ask for at most %d per page and follow the Link header", v, maxPageSize)
		}
		n = v
	}
	last = q.Get("last")
	if len(last) > maxNameLen {
		return 0, "", errorf(400, CodeUnsupported, "last is longer than %d characters", maxNameLen)
	}
	return n, last, nil
}

// nextLink is the Link header to the page after last.
func nextLink(path string, n int, last string) string {
	q := url.Values{}
	q.Set("n", strconv.Itoa(n))
	q.Set("last", last)
	return "<" + path + "?" + q.Encode() + `>; rel="next"`
}

// listTags serves GET /v2/<name>/tags/list[?n=&last=].
func (reg *Registry) listTags(w http.ResponseWriter, r *http.Request, req *request) error {
	ctx := r.Context()
	n, last, err := page(r.URL.Query())
	if err != nil {
		return err
	}
	if _, err := reg.store.RepositoryByName(ctx, req.Name); err != nil {
		return storeErr(err, errorf(404, CodeNameUnknown, "repository %s is not known to the registry", req.Name))
	}
	tags := []string{}
	more := false
	for n != 0 {
		// With a page size, ask for one tag more than the page to learn
		// whether there is a next page.
		want := storePage
		if n > 0 {
			want = min(storePage, n+1-len(tags))
		}
		got, err := reg.store.ListTags(ctx, req.Name, last, want)
		if err != nil {
			return storeErr(err, errorf(404, CodeNameUnknown, "repository %s is not known to the registry", req.Name))
		}
		tags = append(tags, got...)
		if n > 0 && len(tags) > n {
			tags, more = tags[:n], true
			break
		}
		if len(got) < want {
			break
		}
		last = got[len(got)-1]
	}
	if more {
		w.Header().Set("Link", nextLink("/v2/"+req.Name+"/tags/list", n, tags[len(tags)-1]))
	}
	return writeJSON(w, r, http.StatusOK, "application/json", struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{req.Name, tags})
}

// catalog serves GET /v2/_catalog[?n=&last=], listing only repositories
// the Authorizer lets the caller list.
func (reg *Registry) catalog(w http.ResponseWriter, r *http.Request, req *request) error {
	ctx := r.Context()
	n, last, err := page(r.URL.Query())
	if err != nil {
		return err
	}
	repos := []string{}
	more := false
	for n != 0 {
		got, err := reg.store.ListRepositories(ctx, "", last, storePage)
		if err != nil {
			return storeErr(err, nil)
		}
		for _, name := range got {
			if reg.auth.Authorize(r, name, ActionList) != nil {
				continue
			}
			if n > 0 && len(repos) == n {
				more = true
				break
			}
			repos = append(repos, name)
		}
		if more || len(got) < storePage {
			break
		}
		last = got[len(got)-1]
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if more {
		w.Header().Set("Link", nextLink("/v2/_catalog", n, repos[len(repos)-1]))
	}
	return writeJSON(w, r, http.StatusOK, "application/json", struct {
		Repositories []string `json:"repositories"`
	}{repos})
}

// referrerDescriptor is one entry of the referrers index.
type referrerDescriptor struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// referrers serves GET /v2/<name>/referrers/<digest>[?artifactType=]: an
// image index of the manifests whose subject is digest. An unknown
// repository or subject has no referrers, which is an empty index.
func (reg *Registry) referrers(w http.ResponseWriter, r *http.Request, req *request) error {
	d, err := parseDigest(req.Ref)
	if err != nil {
		return err
	}
	descs, err := reg.store.Referrers(r.Context(), req.Name, string(d))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("referrers: %w", err)
	}
	q := r.URL.Query()
	filter, filtered := q.Get("artifactType"), q.Has("artifactType")
	out := make([]referrerDescriptor, 0, len(descs))
	for _, d := range descs {
		if filtered && d.ArtifactType != filter {
			continue
		}
		out = append(out, referrerDescriptor{
			MediaType:    d.MediaType,
			ArtifactType: d.ArtifactType,
			Digest:       d.Digest,
			Size:         d.Size,
			Annotations:  d.Annotations,
		})
	}
	if filtered {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	return writeJSON(w, r, http.StatusOK, MediaTypeOCIIndex, struct {
		SchemaVersion int                  `json:"schemaVersion"`
		MediaType     string               `json:"mediaType"`
		Manifests     []referrerDescriptor `json:"manifests"`
	}{2, MediaTypeOCIIndex, out})
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, contentType string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	return nil
}
