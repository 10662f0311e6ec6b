package registry_test

import (
	"bytes"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/testsupport"
)

// FuzzHandler throws arbitrary requests at the registry: whatever comes
// in, the answer is never a server error.
//
//	go test ./internal/registry -run '^$' -fuzz FuzzHandler -fuzztime 2m
func FuzzHandler(f *testing.F) {
	st := testsupport.NewMemStore("team")
	blobs := newBlobStore(f, f.TempDir())
	reg, err := registry.New(registry.Config{Store: st, Blobs: blobs, Uploads: blobs, Auth: testsupport.AllowAll{}})
	if err != nil {
		f.Fatal(err)
	}
	// Some content for the fuzzer to find: a blob, an image, an upload.
	serve := func(method, target string, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://registry.test/", bytes.NewReader(body))
		u, err := url.Parse(target)
		if err != nil {
			return nil
		}
		req.URL.Path, req.URL.RawQuery = u.Path, u.RawQuery
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		reg.ServeHTTP(w, req)
		return w
	}
	cfg := []byte(`{}`)
	cfgD := sha256Of(cfg)
	serve("POST", "/v2/team/app/blobs/uploads/?digest="+cfgD, cfg, nil)
	m := ociManifest(cfgD, 2, cfgD, 2, "")
	serve("PUT", "/v2/team/app/manifests/v1", m, map[string]string{"Content-Type": registry.MediaTypeOCIManifest})
	up := serve("POST", "/v2/team/app/blobs/uploads/", nil, nil).Header().Get("Location")

	methods := []string{"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"}
	f.Add(uint8(0), "/v2/team/app/manifests/v1", "", "", "", []byte(nil))
	f.Add(uint8(2), "/v2/team/app/manifests/v2", "", registry.MediaTypeOCIManifest, "", m)
	f.Add(uint8(2), "/v2/team/app/manifests/"+sha256Of(m)+"?tag=x&tag=y", "", registry.MediaTypeOCIManifest, "", m)
	f.Add(uint8(4), up, "0-2", "", "", []byte("abc"))
	f.Add(uint8(2), up+"?digest="+sha256Of([]byte("abc")), "", "", "", []byte("abc"))
	f.Add(uint8(3), "/v2/team/app/blobs/uploads/?mount="+cfgD+"&from=team/app", "", "", "", []byte(nil))
	f.Add(uint8(0), "/v2/team/app/blobs/"+cfgD, "", "", "bytes=1-", []byte(nil))
	f.Add(uint8(0), "/v2/team/app/referrers/"+cfgD+"?artifactType=x", "", "", "", []byte(nil))
	f.Add(uint8(0), "/v2/team/app/tags/list?n=1&last=a", "", "", "", []byte(nil))
	f.Add(uint8(0), "/v2/_catalog?n=0", "", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, mi uint8, target, contentRange, contentType, rng string, body []byte) {
		if !strings.HasPrefix(target, "/v2/") {
			target = "/v2/" + target
		}
		hdr := map[string]string{}
		if contentRange != "" {
			hdr["Content-Range"] = contentRange
		}
		if contentType != "" {
			hdr["Content-Type"] = contentType
		}
		if rng != "" {
			hdr["Range"] = rng
		}
		w := serve(methods[int(mi)%len(methods)], target, body, hdr)
		if w == nil {
			return
		}
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d %s", methods[int(mi)%len(methods)], target, w.Code, w.Body)
		}
	})
}
