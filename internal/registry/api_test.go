package registry_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/testsupport"
)

func sha256Of(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func sha512Of(b []byte) string {
	s := sha512.Sum512(b)
	return "sha512:" + hex.EncodeToString(s[:])
}

// pushBlob uploads content to repo with POST then PUT.
func (e *env) pushBlob(repo string, content []byte) string {
	e.t.Helper()
	d := sha256Of(content)
	resp, _ := e.do("POST", "/v2/"+repo+"/blobs/uploads/", nil)
	if resp.StatusCode != 202 {
		e.t.Fatalf("POST upload to %s: %d", repo, resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	resp, body := e.do("PUT", loc+"?digest="+url.QueryEscape(d), bytes.NewReader(content))
	if resp.StatusCode != 201 {
		e.t.Fatalf("PUT blob to %s: %d %s", repo, resp.StatusCode, body)
	}
	return d
}

type testImage struct {
	config, layer string
	manifest      []byte
	digest        string
}

// pushImage pushes a one-layer OCI image to repo:tag (tag may be "").
func (e *env) pushImage(repo, tag, seed string) testImage {
	e.t.Helper()
	cfg := e.pushBlob(repo, []byte(`{"seed":"`+seed+`"}`))
	layer := e.pushBlob(repo, []byte("layer "+seed))
	m := ociManifest(cfg, int64(len(`{"seed":"`+seed+`"}`)), layer, int64(len("layer "+seed)), "")
	ref := tag
	if ref == "" {
		ref = sha256Of(m)
	}
	resp, body := e.do("PUT", "/v2/"+repo+"/manifests/"+ref, bytes.NewReader(m), "Content-Type", registry.MediaTypeOCIManifest)
	if resp.StatusCode != 201 {
		e.t.Fatalf("PUT manifest: %d %s", resp.StatusCode, body)
	}
	return testImage{config: cfg, layer: layer, manifest: m, digest: sha256Of(m)}
}

func ociManifest(cfg string, cfgSize int64, layer string, layerSize int64, subject string) []byte {
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     registry.MediaTypeOCIManifest,
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": cfgSize},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": layerSize}},
	}
	if subject != "" {
		m["subject"] = map[string]any{"mediaType": registry.MediaTypeOCIManifest, "digest": subject, "size": 1}
	}
	b, _ := json.Marshal(m)
	return b
}

func ociIndex(children ...string) []byte {
	var ms []any
	for _, c := range children {
		ms = append(ms, map[string]any{"mediaType": registry.MediaTypeOCIManifest, "digest": c, "size": 100})
	}
	b, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": registry.MediaTypeOCIIndex, "manifests": ms})
	return b
}

// errorCode returns the first error code of a registry error body.
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var eb struct {
		Errors []struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &eb); err != nil || len(eb.Errors) == 0 {
		t.Fatalf("not an OCI error body: %q", body)
	}
	return eb.Errors[0].Code
}

func TestErrorPaths(t *testing.T) {
	e := newEnv(t, envOptions{})
	img := e.pushImage("team/app", "v1", "one")
	other := e.pushBlob("other/x", []byte("only in other/x"))
	e.pushImage("other/x", "v1", "two")
	h64 := strings.Repeat("a", 64)
	big := bytes.Repeat([]byte(" "), registry.DefaultMaxManifestSize+1)

	startUpload := func(repo string) string {
		resp, _ := e.do("POST", "/v2/"+repo+"/blobs/uploads/", nil)
		if resp.StatusCode != 202 {
			t.Fatalf("POST upload: %d", resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	teamSession := startUpload("team/app")
	sessionID := teamSession[strings.LastIndex(teamSession, "/")+1:]

	type req struct {
		method, path string
		body         []byte
		hdr          []string
	}
	tests := []struct {
		name     string
		req      req
		status   int
		code     string // "" for no body check
		wantHdrs []string
	}{
		{"base", req{"GET", "/v2/", nil, nil}, 200, "", nil},
		{"base wrong method", req{"POST", "/v2/", nil, nil}, 405, "UNSUPPORTED", []string{"Allow"}},
		{"unknown endpoint", req{"GET", "/v2/team/app/nothing", nil, nil}, 404, "UNSUPPORTED", nil},
		{"uppercase name", req{"GET", "/v2/Team/App/tags/list", nil, nil}, 400, "NAME_INVALID", nil},
		{"name with bad separator", req{"GET", "/v2/team/a..b/tags/list", nil, nil}, 400, "NAME_INVALID", nil},
		{"name too long", req{"GET", "/v2/team/" + strings.Repeat("a", 260) + "/tags/list", nil, nil}, 400, "NAME_INVALID", nil},
		{"tags of unknown repo", req{"GET", "/v2/team/none/tags/list", nil, nil}, 404, "NAME_UNKNOWN", nil},
		{"tags bad n", req{"GET", "/v2/team/app/tags/list?n=-1", nil, nil}, 400, "UNSUPPORTED", nil},
		{"tags n not a number", req{"GET", "/v2/team/app/tags/list?n=ten", nil, nil}, 400, "UNSUPPORTED", nil},
		{"catalog bad n", req{"GET", "/v2/_catalog?n=1e9", nil, nil}, 400, "UNSUPPORTED", nil},

		{"manifest unknown tag", req{"GET", "/v2/team/app/manifests/nope", nil, nil}, 404, "MANIFEST_UNKNOWN", nil},
		{"manifest unknown digest", req{"GET", "/v2/team/app/manifests/sha256:" + h64, nil, nil}, 404, "MANIFEST_UNKNOWN", nil},
		{"manifest unknown repo", req{"GET", "/v2/team/none/manifests/v1", nil, nil}, 404, "NAME_UNKNOWN", nil},
		{"manifest invalid tag", req{"GET", "/v2/team/app/manifests/-x", nil, nil}, 404, "MANIFEST_UNKNOWN", nil},
		{"manifest bad digest", req{"GET", "/v2/team/app/manifests/sha256:baddigeststring", nil, nil}, 400, "DIGEST_INVALID", nil},
		{"manifest unsupported algorithm", req{"GET", "/v2/team/app/manifests/md5:" + h64[:32], nil, nil}, 400, "DIGEST_INVALID", nil},
		{"manifest head unknown", req{"HEAD", "/v2/team/app/manifests/nope", nil, nil}, 404, "", nil},
		{"put manifest not JSON", req{"PUT", "/v2/team/app/manifests/x", []byte("{"), []string{"Content-Type", registry.MediaTypeOCIManifest}}, 400, "MANIFEST_INVALID", nil},
		{"put manifest empty", req{"PUT", "/v2/team/app/manifests/x", nil, []string{"Content-Type", registry.MediaTypeOCIManifest}}, 400, "MANIFEST_INVALID", nil},
		{"put schema 1", req{"PUT", "/v2/team/app/manifests/x", []byte(`{"schemaVersion":1}`), []string{"Content-Type", "application/vnd.docker.distribution.manifest.v1+prettyjws"}}, 400, "MANIFEST_INVALID", nil},
		{"put unknown media type", req{"PUT", "/v2/team/app/manifests/x", []byte(`{"schemaVersion":2,"mediaType":"text/plain"}`), nil}, 400, "MANIFEST_INVALID", nil},
		{"put content type mismatch", req{"PUT", "/v2/team/app/manifests/x", img.manifest, []string{"Content-Type", registry.MediaTypeDockerManifest}}, 400, "MANIFEST_INVALID", nil},
		{"put invalid tag", req{"PUT", "/v2/team/app/manifests/.x", img.manifest, []string{"Content-Type", registry.MediaTypeOCIManifest}}, 400, "MANIFEST_INVALID", nil},
		{"put invalid tag param", req{"PUT", "/v2/team/app/manifests/" + img.digest + "?tag=-x", img.manifest, []string{"Content-Type", registry.MediaTypeOCIManifest}}, 400, "MANIFEST_INVALID", nil},
		{"put wrong digest", req{"PUT", "/v2/team/app/manifests/sha256:" + h64, img.manifest, []string{"Content-Type", registry.MediaTypeOCIManifest}}, 400, "DIGEST_INVALID", nil},
		{"put bad digest", req{"PUT", "/v2/team/app/manifests/sha256:baddigeststring", img.manifest, []string{"Content-Type", registry.MediaTypeOCIManifest}}, 400, "DIGEST_INVALID", nil},
		{"put missing blob", req{"PUT", "/v2/team/app/manifests/x", ociManifest(img.config, 1, "sha256:"+h64, 1, ""), []string{"Content-Type", registry.MediaTypeOCIManifest}}, 400, "MANIFEST_BLOB_UNKNOWN", nil},
		{"put blob of another repo", req{"PUT", "/v2/team/app/manifests/x", ociManifest(img.config, 1, other, 1, ""), []string{"Content-Type", registry.MediaTypeOCIManifest}}, 400, "MANIFEST_BLOB_UNKNOWN", nil},
		{"put index missing child", req{"PUT", "/v2/team/app/manifests/idx", ociIndex(img.digest, "sha256:"+h64), []string{"Content-Type", registry.MediaTypeOCIIndex}}, 400, "MANIFEST_UNKNOWN", nil},
		{"put bad descriptor digest", req{"PUT", "/v2/team/app/manifests/x", ociManifest("sha256:nothex", 1, img.layer, 1, ""), []string{"Content-Type", registry.MediaTypeOCIManifest}}, 400, "MANIFEST_INVALID", nil},
		{"put NUL annotation", req{"PUT", "/v2/team/app/manifests/x", []byte(`{"schemaVersion":2,"mediaType":"` + registry.MediaTypeOCIIndex + `","manifests":[],"annotations":{"a":"\u0000"}}`), nil}, 400, "MANIFEST_INVALID", nil},
		{"put huge manifest", req{"PUT", "/v2/team/app/manifests/x", big, []string{"Content-Type", registry.MediaTypeOCIManifest}}, 413, "MANIFEST_INVALID", nil},
		{"put to missing project", req{"PUT", "/v2/nowhere/app/manifests/x", img.manifest, []string{"Content-Type", registry.MediaTypeOCIManifest}}, 404, "NAME_UNKNOWN", nil},
		{"delete unknown manifest", req{"DELETE", "/v2/team/app/manifests/sha256:" + h64, nil, nil}, 404, "MANIFEST_UNKNOWN", nil},
		{"delete unknown tag", req{"DELETE", "/v2/team/app/manifests/nope", nil, nil}, 404, "MANIFEST_UNKNOWN", nil},

		{"blob unknown", req{"GET", "/v2/team/app/blobs/sha256:" + h64, nil, nil}, 404, "BLOB_UNKNOWN", nil},
		{"blob of another repo", req{"GET", "/v2/team/app/blobs/" + other, nil, nil}, 404, "BLOB_UNKNOWN", nil},
		{"blob bad digest", req{"GET", "/v2/team/app/blobs/sha256:zz", nil, nil}, 400, "DIGEST_INVALID", nil},
		{"blob traversal digest", req{"GET", "/v2/team/app/blobs/sha256:..%2F..%2Fetc", nil, nil}, 404, "UNSUPPORTED", nil},
		{"blob dotted digest", req{"GET", "/v2/team/app/blobs/sha256:..", nil, nil}, 400, "DIGEST_INVALID", nil},
		{"blob range unsatisfiable", req{"GET", "/v2/team/app/blobs/" + img.layer, nil, []string{"Range", "bytes=5000-6000"}}, 416, "", []string{"Content-Range"}},
		{"blob range", req{"GET", "/v2/team/app/blobs/" + img.layer, nil, []string{"Range", "bytes=0-3"}}, 206, "", []string{"Content-Range"}},
		{"delete unknown blob", req{"DELETE", "/v2/team/app/blobs/sha256:" + h64, nil, nil}, 404, "BLOB_UNKNOWN", nil},
		{"blob wrong method", req{"PUT", "/v2/team/app/blobs/" + img.layer, nil, nil}, 405, "UNSUPPORTED", nil},

		{"upload unknown session", req{"PATCH", "/v2/team/app/blobs/uploads/" + strings.Repeat("A", 43), []byte("x"), nil}, 404, "BLOB_UPLOAD_UNKNOWN", nil},
		{"upload escaped slashes", req{"PATCH", "/v2/team/app/blobs/uploads/..%2F..%2Fx", []byte("x"), nil}, 404, "UNSUPPORTED", nil},
		{"upload garbage id", req{"PATCH", "/v2/team/app/blobs/uploads/not-a-session", []byte("x"), nil}, 404, "BLOB_UPLOAD_UNKNOWN", nil},
		{"upload someone else's session", req{"PATCH", "/v2/other/x/blobs/uploads/" + sessionID, []byte("x"), nil}, 404, "BLOB_UPLOAD_UNKNOWN", nil},
		{"upload session of another repo in the same project", req{"PUT", "/v2/team/other/blobs/uploads/" + sessionID + "?digest=" + sha256Of(nil), nil, nil}, 404, "BLOB_UPLOAD_UNKNOWN", nil},
		{"upload out of order", req{"PATCH", teamSession, []byte("abc"), []string{"Content-Range", "10-12"}}, 416, "BLOB_UPLOAD_INVALID", []string{"Range", "Location"}},
		{"upload malformed range", req{"PATCH", teamSession, []byte("abc"), []string{"Content-Range", "a-b"}}, 400, "BLOB_UPLOAD_INVALID", nil},
		{"upload backwards range", req{"PATCH", teamSession, []byte("abc"), []string{"Content-Range", "2-0"}}, 400, "BLOB_UPLOAD_INVALID", nil},
		{"upload range length mismatch", req{"PATCH", teamSession, []byte("abc"), []string{"Content-Range", "0-9"}}, 400, "SIZE_INVALID", nil},
		{"finish without digest", req{"PUT", teamSession, nil, nil}, 400, "DIGEST_INVALID", nil},
		{"finish bad digest", req{"PUT", teamSession + "?digest=sha256:xyz", nil, nil}, 400, "DIGEST_INVALID", nil},
		{"finish unsupported algorithm", req{"PUT", teamSession + "?digest=sha384:" + h64, nil, nil}, 400, "DIGEST_INVALID", nil},
		{"post unsupported algorithm", req{"POST", "/v2/team/app/blobs/uploads/?digest-algorithm=md5", nil, nil}, 400, "UNSUPPORTED", nil},
		{"post to missing project", req{"POST", "/v2/nowhere/app/blobs/uploads/", nil, nil}, 404, "NAME_UNKNOWN", nil},
		{"post digest mismatch", req{"POST", "/v2/team/app/blobs/uploads/?digest=sha256:" + h64, []byte("not it"), nil}, 400, "DIGEST_INVALID", nil},
		{"post bad digest", req{"POST", "/v2/team/app/blobs/uploads/?digest=sha256", []byte("x"), nil}, 400, "DIGEST_INVALID", nil},
		{"mount bad digest", req{"POST", "/v2/team/app/blobs/uploads/?mount=bad&from=other/x", nil, nil}, 400, "DIGEST_INVALID", nil},
		{"mount from invalid name", req{"POST", "/v2/team/app/blobs/uploads/?mount=" + other + "&from=../x", nil, nil}, 202, "", []string{"Location"}},
		{"mount missing blob", req{"POST", "/v2/team/app/blobs/uploads/?mount=sha256:" + h64 + "&from=other/x", nil, nil}, 202, "", []string{"Location"}},
		{"upload status", req{"GET", teamSession, nil, nil}, 204, "", []string{"Range", "Location", "Docker-Upload-UUID"}},

		{"referrers bad digest", req{"GET", "/v2/team/app/referrers/nope", nil, nil}, 400, "DIGEST_INVALID", nil},
		{"referrers unknown repo", req{"GET", "/v2/team/none/referrers/sha256:" + h64, nil, nil}, 200, "", []string{"Content-Type"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.req.body != nil {
				body = bytes.NewReader(tc.req.body)
			}
			resp, b := e.do(tc.req.method, tc.req.path, body, tc.req.hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s %s = %d %s, want %d", tc.req.method, tc.req.path, resp.StatusCode, b, tc.status)
			}
			if tc.code != "" {
				if got := errorCode(t, b); got != tc.code {
					t.Errorf("code = %s, want %s (%s)", got, tc.code, b)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("error Content-Type = %q", ct)
				}
			}
			if v := resp.Header.Get("Docker-Distribution-API-Version"); v != "registry/2.0" {
				t.Errorf("Docker-Distribution-API-Version = %q", v)
			}
			for _, h := range tc.wantHdrs {
				if resp.Header.Get(h) == "" {
					t.Errorf("missing header %s", h)
				}
			}
		})
	}
}

// Paths that http.ServeMux would clean or redirect reach a handler mounted
// some other way unchanged; the registry must refuse them itself.
func TestHostilePathsAtTheHandler(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, p := range []string{
		"/v2/../../etc/passwd/tags/list",
		"/v2/team/../../x/manifests/latest",
		"/v2/team//app/tags/list",
		"/v2/./team/tags/list",
		"/v2/team/app/blobs/uploads/../../../../etc/passwd",
		"/v2/team/app%00/tags/list",
		"/v2/team/app/manifests/..",
	} {
		for _, m := range []string{"GET", "PUT", "PATCH", "DELETE", "POST"} {
			req := httptest.NewRequest(m, "http://x/", strings.NewReader("{}"))
			req.URL.Path = p
			w := httptest.NewRecorder()
			e.reg.ServeHTTP(w, req)
			if w.Code != 400 && w.Code != 404 && w.Code != 405 {
				t.Errorf("%s %s = %d %s, want 400, 404 or 405", m, p, w.Code, w.Body)
			}
		}
	}
}

func TestUploadsChunkedStreamedAndResumed(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			e := newEnv(t, envOptions{backend: backend})
			content := bytes.Repeat([]byte("0123456789"), 1000)
			d := sha256Of(content)

			// Chunked, with a resume check between chunks.
			resp, _ := e.do("POST", "/v2/team/app/blobs/uploads/", nil)
			loc := resp.Header.Get("Location")
			if got := resp.Header.Get("Range"); got != "0-0" {
				t.Errorf("Range after POST = %q", got)
			}
			resp, _ = e.do("PATCH", loc, bytes.NewReader(content[:4000]), "Content-Range", "0-3999", "Content-Type", "application/octet-stream")
			if resp.StatusCode != 202 || resp.Header.Get("Range") != "0-3999" {
				t.Fatalf("first chunk: %d Range %q", resp.StatusCode, resp.Header.Get("Range"))
			}
			loc = resp.Header.Get("Location")
			resp, _ = e.do("GET", loc, nil)
			if resp.StatusCode != 204 || resp.Header.Get("Range") != "0-3999" {
				t.Fatalf("status: %d Range %q", resp.StatusCode, resp.Header.Get("Range"))
			}
			// A chunk resent after a lost response is refused, and says where to go on.
			resp, _ = e.do("PATCH", loc, bytes.NewReader(content[:4000]), "Content-Range", "0-3999")
			if resp.StatusCode != 416 || resp.Header.Get("Range") != "0-3999" {
				t.Fatalf("repeated chunk: %d Range %q", resp.StatusCode, resp.Header.Get("Range"))
			}
			resp, _ = e.do("PATCH", loc, bytes.NewReader(content[4000:8000]), "Content-Range", "4000-7999")
			if resp.StatusCode != 202 {
				t.Fatalf("second chunk: %d", resp.StatusCode)
			}
			// The last chunk rides on the PUT.
			resp, b := e.do("PUT", resp.Header.Get("Location")+"?digest="+d, bytes.NewReader(content[8000:]), "Content-Range", "8000-9999")
			if resp.StatusCode != 201 || resp.Header.Get("Docker-Content-Digest") != d {
				t.Fatalf("final PUT: %d %s", resp.StatusCode, b)
			}
			resp, b = e.do("GET", resp.Header.Get("Location"), nil)
			if resp.StatusCode != 200 || !bytes.Equal(b, content) {
				t.Fatalf("GET blob: %d, %d bytes", resp.StatusCode, len(b))
			}
			// The session is gone.
			if resp, _ = e.do("GET", loc, nil); resp.StatusCode != 404 {
				t.Errorf("finished session status = %d, want 404", resp.StatusCode)
			}

			// Streamed (no Content-Range, chunked transfer encoding), sha512
			// announced up front.
			d512 := sha512Of(content)
			resp, _ = e.do("POST", "/v2/team/app/blobs/uploads/?digest-algorithm=sha512", nil)
			loc = resp.Header.Get("Location")
			resp, _ = e.do("PATCH", loc, io.MultiReader(bytes.NewReader(content[:10]), bytes.NewReader(content[10:])))
			if resp.StatusCode != 202 || resp.Header.Get("Range") != "0-9999" {
				t.Fatalf("stream: %d Range %q", resp.StatusCode, resp.Header.Get("Range"))
			}
			resp, b = e.do("PUT", resp.Header.Get("Location")+"?digest="+d512, nil)
			if resp.StatusCode != 201 {
				t.Fatalf("finish stream: %d %s", resp.StatusCode, b)
			}
			if resp, b = e.do("GET", "/v2/team/app/blobs/"+d512, nil); resp.StatusCode != 200 || !bytes.Equal(b, content) {
				t.Fatalf("GET sha512 blob: %d", resp.StatusCode)
			}

			// Single POST, and cancel.
			small := []byte("single request")
			resp, _ = e.do("POST", "/v2/team/app/blobs/uploads/?digest="+sha256Of(small), bytes.NewReader(small))
			if resp.StatusCode != 201 {
				t.Fatalf("single POST: %d", resp.StatusCode)
			}
			resp, _ = e.do("POST", "/v2/team/app/blobs/uploads/", nil)
			loc = resp.Header.Get("Location")
			e.do("PATCH", loc, bytes.NewReader([]byte("doomed")))
			if resp, _ = e.do("DELETE", loc, nil); resp.StatusCode != 204 {
				t.Fatalf("cancel: %d", resp.StatusCode)
			}
			if resp, _ = e.do("PATCH", loc, bytes.NewReader([]byte("x"))); resp.StatusCode != 404 {
				t.Errorf("PATCH after cancel: %d", resp.StatusCode)
			}
		})
	}
}

// An upload survives a restart: the hash state lives in the store, the
// bytes on disk, and a new Registry over both continues it.
func TestUploadResumesAfterRestart(t *testing.T) {
	e := newEnv(t, envOptions{})
	content := bytes.Repeat([]byte("abcdefgh"), 4096)
	resp, _ := e.do("POST", "/v2/team/app/blobs/uploads/", nil)
	loc := resp.Header.Get("Location")
	resp, _ = e.do("PATCH", loc, bytes.NewReader(content[:20000]), "Content-Range", "0-19999")
	if resp.StatusCode != 202 {
		t.Fatal(resp.StatusCode)
	}
	// A second registry over the same store and data directory.
	blobs := newBlobStore(t, e.data)
	reg2, err := registry.New(registry.Config{Store: e.store, Blobs: blobs, Uploads: blobs, Auth: testsupport.AllowAll{}})
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(reg2)
	defer srv2.Close()
	e2 := &env{t: t, srv: srv2, reg: reg2, store: e.store, data: e.data}
	resp, _ = e2.do("GET", loc, nil)
	if resp.StatusCode != 204 || resp.Header.Get("Range") != "0-19999" {
		t.Fatalf("status after restart: %d %q", resp.StatusCode, resp.Header.Get("Range"))
	}
	resp, b := e2.do("PUT", loc+"?digest="+sha256Of(content), bytes.NewReader(content[20000:]), "Content-Range", fmt.Sprintf("20000-%d", len(content)-1))
	if resp.StatusCode != 201 {
		t.Fatalf("finish after restart: %d %s", resp.StatusCode, b)
	}
}

// A request whose body is shorter than its Content-Length (the client
// hangs up) is a client error, never a 500, and leaves the session usable.
func TestShortBody(t *testing.T) {
	e := newEnv(t, envOptions{})
	resp, _ := e.do("POST", "/v2/team/app/blobs/uploads/", nil)
	loc := resp.Header.Get("Location")
	conn, err := net.Dial("tcp", e.host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\nContent-Range: 0-99\r\n\r\nonly twenty bytes...", loc, e.host)
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		if r.StatusCode >= 500 {
			t.Errorf("short body: %d", r.StatusCode)
		}
		r.Body.Close()
	}
	conn.Close()
	resp, _ = e.do("GET", loc, nil)
	if resp.StatusCode != 204 || resp.Header.Get("Range") != "0-0" {
		t.Errorf("session after a short chunk: %d %q", resp.StatusCode, resp.Header.Get("Range"))
	}
	content := []byte("the real content")
	resp, b := e.do("PUT", loc+"?digest="+sha256Of(content), bytes.NewReader(content))
	if resp.StatusCode != 201 {
		t.Errorf("finish after a short chunk: %d %s", resp.StatusCode, b)
	}
}

func TestDigestMismatchEndsTheSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	resp, _ := e.do("POST", "/v2/team/app/blobs/uploads/", nil)
	loc := resp.Header.Get("Location")
	resp, b := e.do("PUT", loc+"?digest="+sha256Of([]byte("expected")), bytes.NewReader([]byte("received")))
	if resp.StatusCode != 400 || errorCode(t, b) != "DIGEST_INVALID" {
		t.Fatalf("mismatch: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.do("HEAD", "/v2/team/app/blobs/"+sha256Of([]byte("expected")), nil); resp.StatusCode != 404 {
		t.Errorf("mismatched blob visible: %d", resp.StatusCode)
	}
	if resp, _ := e.do("HEAD", "/v2/team/app/blobs/"+sha256Of([]byte("received")), nil); resp.StatusCode != 404 {
		t.Errorf("received bytes visible under their own digest: %d", resp.StatusCode)
	}
	if resp, _ := e.do("GET", loc, nil); resp.StatusCode != 404 {
		t.Errorf("session after a mismatch: %d, want 404", resp.StatusCode)
	}
}

func TestExpiredSessionIsUnknown(t *testing.T) {
	clock := testsupport.NewClock(time.Now())
	e := newEnv(t, envOptions{now: clock.Now, cfg: func(c *registry.Config) { c.UploadTTL = time.Hour }})
	resp, _ := e.do("POST", "/v2/team/app/blobs/uploads/", nil)
	loc := resp.Header.Get("Location")
	clock.Advance(2 * time.Hour)
	resp, b := e.do("PATCH", loc, bytes.NewReader([]byte("late")))
	if resp.StatusCode != 404 || errorCode(t, b) != "BLOB_UPLOAD_UNKNOWN" {
		t.Errorf("expired session: %d %s", resp.StatusCode, b)
	}
}

func TestManifestsAndTags(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			e := newEnv(t, envOptions{backend: backend})
			img := e.pushImage("team/app", "", "m")
			// sha512 manifest digest, with two tags as parameters, and a
			// referrers fallback tag.
			d512 := sha512Of(img.manifest)
			fallback := "sha256-" + strings.TrimPrefix(img.digest, "sha256:")
			resp, b := e.do("PUT", "/v2/team/app/manifests/"+d512+"?tag=a&tag="+fallback, bytes.NewReader(img.manifest), "Content-Type", registry.MediaTypeOCIManifest)
			if resp.StatusCode != 201 {
				t.Fatalf("PUT by sha512: %d %s", resp.StatusCode, b)
			}
			if diff := cmp.Diff([]string{"a", fallback}, resp.Header.Values("OCI-Tag")); diff != "" {
				t.Errorf("OCI-Tag (-want +got):\n%s", diff)
			}
			if got := resp.Header.Get("Docker-Content-Digest"); got != d512 {
				t.Errorf("Docker-Content-Digest = %s", got)
			}
			resp, b = e.do("GET", "/v2/team/app/manifests/"+fallback, nil)
			if resp.StatusCode != 200 || !bytes.Equal(b, img.manifest) || resp.Header.Get("Docker-Content-Digest") != d512 {
				t.Fatalf("GET fallback tag: %d %q", resp.StatusCode, resp.Header.Get("Docker-Content-Digest"))
			}
			if ct := resp.Header.Get("Content-Type"); ct != registry.MediaTypeOCIManifest {
				t.Errorf("Content-Type = %s", ct)
			}
			// Conditional GET.
			resp, _ = e.do("GET", "/v2/team/app/manifests/a", nil, "If-None-Match", `"`+d512+`"`)
			if resp.StatusCode != 304 {
				t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
			}
			// Tags paginate with n, last and Link.
			for _, tag := range []string{"b", "c", "d"} {
				e.do("PUT", "/v2/team/app/manifests/"+tag, bytes.NewReader(img.manifest), "Content-Type", registry.MediaTypeOCIManifest)
			}
			var all []string
			next := "/v2/team/app/tags/list?n=2"
			for next != "" {
				resp, b := e.do("GET", next, nil)
				var tl struct {
					Name string
					Tags []string
				}
				if err := json.Unmarshal(b, &tl); err != nil || tl.Name != "team/app" {
					t.Fatalf("tags page: %s", b)
				}
				all = append(all, tl.Tags...)
				next = ""
				if l := resp.Header.Get("Link"); l != "" {
					next = strings.TrimSuffix(strings.TrimPrefix(l, "<"), `>; rel="next"`)
				}
			}
			if diff := cmp.Diff([]string{"a", "b", "c", "d", fallback}, all); diff != "" {
				t.Errorf("paged tags (-want +got):\n%s", diff)
			}
			resp, b = e.do("GET", "/v2/team/app/tags/list?n=0", nil)
			if resp.Header.Get("Link") != "" || !strings.Contains(string(b), `"tags":[]`) {
				t.Errorf("n=0: Link %q body %s", resp.Header.Get("Link"), b)
			}
			resp, b = e.do("GET", "/v2/team/app/tags/list?last=c", nil)
			if !strings.Contains(string(b), `"tags":["d","`+fallback+`"]`) {
				t.Errorf("last=c: %s", b)
			}
		})
	}
}

func TestReferrersAPI(t *testing.T) {
	e := newEnv(t, envOptions{})
	subject := e.pushImage("team/app", "v1", "subject")
	cfg := e.pushBlob("team/app", []byte("{}"))
	layer := e.pushBlob("team/app", []byte("sig"))
	var want []string
	for i, at := range []string{"application/vnd.example.sig", "application/vnd.example.sbom"} {
		m, _ := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": registry.MediaTypeOCIManifest, "artifactType": at,
			"config":      map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": cfg, "size": 2},
			"layers":      []any{map[string]any{"mediaType": "application/octet-stream", "digest": layer, "size": 3}},
			"subject":     map[string]any{"mediaType": registry.MediaTypeOCIManifest, "digest": subject.digest, "size": len(subject.manifest)},
			"annotations": map[string]string{"i": fmt.Sprint(i)},
		})
		resp, b := e.do("PUT", "/v2/team/app/manifests/"+sha256Of(m), bytes.NewReader(m), "Content-Type", registry.MediaTypeOCIManifest)
		if resp.StatusCode != 201 || resp.Header.Get("OCI-Subject") != subject.digest {
			t.Fatalf("PUT referrer: %d %s OCI-Subject %q", resp.StatusCode, b, resp.Header.Get("OCI-Subject"))
		}
		want = append(want, sha256Of(m))
	}
	// A referrer whose subject does not exist is accepted.
	missing := sha256Of([]byte("never pushed"))
	m := ociManifest(cfg, 2, layer, 3, missing)
	if resp, b := e.do("PUT", "/v2/team/app/manifests/"+sha256Of(m), bytes.NewReader(m), "Content-Type", registry.MediaTypeOCIManifest); resp.StatusCode != 201 {
		t.Fatalf("PUT referrer of a missing subject: %d %s", resp.StatusCode, b)
	}

	type index struct {
		SchemaVersion int
		MediaType     string
		Manifests     []struct {
			MediaType, ArtifactType, Digest string
			Size                            int64
			Annotations                     map[string]string
		}
	}
	get := func(q string) (index, *http.Response) {
		resp, b := e.do("GET", "/v2/team/app/referrers/"+subject.digest+q, nil)
		var idx index
		if resp.StatusCode != 200 || json.Unmarshal(b, &idx) != nil {
			t.Fatalf("referrers: %d %s", resp.StatusCode, b)
		}
		if resp.Header.Get("Content-Type") != registry.MediaTypeOCIIndex || idx.SchemaVersion != 2 || idx.MediaType != registry.MediaTypeOCIIndex {
			t.Errorf("referrers response is not an OCI index: %+v", idx)
		}
		return idx, resp
	}
	idx, resp := get("")
	if resp.Header.Get("OCI-Filters-Applied") != "" {
		t.Error("OCI-Filters-Applied without a filter")
	}
	var got []string
	for _, d := range idx.Manifests {
		got = append(got, d.Digest)
		if d.ArtifactType == "" || d.Annotations["i"] == "" || d.Size == 0 {
			t.Errorf("incomplete descriptor %+v", d)
		}
	}
	if diff := cmp.Diff(want, got, cmpSorted); diff != "" {
		t.Errorf("referrers (-want +got):\n%s", diff)
	}
	idx, resp = get("?artifactType=application/vnd.example.sbom")
	if resp.Header.Get("OCI-Filters-Applied") != "artifactType" || len(idx.Manifests) != 1 || idx.Manifests[0].ArtifactType != "application/vnd.example.sbom" {
		t.Errorf("filtered: %q %+v", resp.Header.Get("OCI-Filters-Applied"), idx.Manifests)
	}
	resp, b := e.do("GET", "/v2/team/app/referrers/"+missing, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), sha256Of(m)) {
		t.Errorf("referrers of a missing subject: %d %s", resp.StatusCode, b)
	}
}

var cmpSorted = cmp.Transformer("sorted", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestAuthorization(t *testing.T) {
	auth := &testsupport.ScriptedAuth{
		Users: map[string]string{"dev": "pw", "reader": "pw"},
		Grants: map[string][]testsupport.Grant{
			"dev": {
				{Repo: "", Actions: []string{registry.ActionCatalog}},
				{Repo: "team/app", Actions: []string{registry.ActionPull, registry.ActionPush, registry.ActionDelete, registry.ActionList}},
				{Repo: "other/x", Actions: []string{registry.ActionPull, registry.ActionPush, registry.ActionList}},
			},
			"reader": {
				{Repo: "", Actions: []string{registry.ActionCatalog}},
				{Repo: "team/app", Actions: []string{registry.ActionPull, registry.ActionList}},
			},
		},
	}
	e := newEnv(t, envOptions{auth: auth})
	asDev := []string{"Authorization", basic("dev", "pw")}
	asReader := []string{"Authorization", basic("reader", "pw")}
	resp, _ := e.do("POST", "/v2/team/app/blobs/uploads/", nil, asDev...)
	if resp.StatusCode != 202 {
		t.Fatalf("dev POST: %d", resp.StatusCode)
	}
	devSession := resp.Header.Get("Location")
	resp, _ = e.do("POST", "/v2/other/x/blobs/uploads/", nil, asDev...)
	if resp.StatusCode != 202 {
		t.Fatalf("dev POST other/x: %d", resp.StatusCode)
	}

	tests := []struct {
		name, method, path string
		hdr                []string
		status             int
		code               string
	}{
		{"anonymous base", "GET", "/v2/", nil, 401, "UNAUTHORIZED"},
		{"bad password", "GET", "/v2/", []string{"Authorization", basic("dev", "nope")}, 401, "UNAUTHORIZED"},
		{"dev base", "GET", "/v2/", asDev, 200, ""},
		{"anonymous pull", "GET", "/v2/team/app/tags/list", nil, 401, "UNAUTHORIZED"},
		{"reader pull", "GET", "/v2/team/app/tags/list", asReader, 200, ""},
		{"reader push", "POST", "/v2/team/app/blobs/uploads/", asReader, 403, "DENIED"},
		{"reader uses dev's session", "PATCH", devSession, asReader, 403, "DENIED"},
		{"reader other repo", "GET", "/v2/other/x/tags/list", asReader, 403, "DENIED"},
		{"dev delete without right", "DELETE", "/v2/other/x/manifests/latest", asDev, 403, "DENIED"},
		{"denied before existence", "GET", "/v2/secret/none/manifests/latest", asReader, 403, "DENIED"},
		{"anonymous catalog", "GET", "/v2/_catalog", nil, 401, "UNAUTHORIZED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := e.do(tc.method, tc.path, nil, tc.hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, b, tc.status)
			}
			if tc.code != "" && errorCode(t, b) != tc.code {
				t.Errorf("code %s, want %s", errorCode(t, b), tc.code)
			}
			if tc.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic realm=") {
				t.Errorf("401 without a challenge: %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	// The catalog lists only what the caller may list.
	e.hdr = asDev
	e.pushImage("team/app", "v1", "a")
	e.pushImage("other/x", "v1", "b")
	e.hdr = nil
	_, b := e.do("GET", "/v2/_catalog", nil, asReader...)
	if got := strings.TrimSpace(string(b)); got != `{"repositories":["team/app"]}` {
		t.Errorf("reader's catalog = %s", got)
	}
	_, b = e.do("GET", "/v2/_catalog?n=1", nil, asDev...)
	if got := strings.TrimSpace(string(b)); got != `{"repositories":["other/x"]}` {
		t.Errorf("dev's first catalog page = %s", got)
	}
}

func basic(user, pass string) string {
	r := &http.Request{Header: http.Header{}}
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

// A streamed PATCH cut off midway keeps what arrived, so the client can
// ask where the upload ends and resume from there.
func TestBrokenStreamResumes(t *testing.T) {
	e := newEnv(t, envOptions{})
	resp, _ := e.do("POST", "/v2/team/app/blobs/uploads/", nil)
	loc := resp.Header.Get("Location")
	conn, err := net.Dial("tcp", e.host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n", loc, e.host)
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if r, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
		if r.StatusCode >= 500 {
			t.Errorf("broken stream: %d", r.StatusCode)
		}
		r.Body.Close()
	}
	conn.Close()
	resp, _ = e.do("GET", loc, nil)
	if resp.StatusCode != 204 || resp.Header.Get("Range") != "0-9" {
		t.Fatalf("after a broken stream: %d Range %q, want 0-9", resp.StatusCode, resp.Header.Get("Range"))
	}
	content := []byte("0123456789abcdef")
	resp, _ = e.do("PATCH", loc, bytes.NewReader(content[10:]), "Content-Range", "10-15")
	if resp.StatusCode != 202 {
		t.Fatalf("resume: %d", resp.StatusCode)
	}
	resp, b := e.do("PUT", loc+"?digest="+sha256Of(content), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("finish: %d %s", resp.StatusCode, b)
	}
}
