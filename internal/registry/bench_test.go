package registry_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// BenchmarkPushPull pushes one 64 MiB blob (POST, one streamed PATCH, PUT)
// and pulls it back, over loopback HTTP, against Seawall with a real SQLite
// store and, when SEAWALL_PEER_REGISTRY is set (e.g. http://127.0.0.1:5000
// for Debian's docker-registry), against that registry too:
//
//	go test ./internal/registry -run '^$' -bench PushPull -benchtime 10x
func BenchmarkPushPull(b *testing.B) {
	content := make([]byte, 64<<20)
	rand.Read(content)
	e := newEnv(b, envOptions{})
	b.Run("seawall", func(b *testing.B) { benchPushPull(b, e.srv.URL, content) })
	if peer := os.Getenv("SEAWALL_PEER_REGISTRY"); peer != "" {
		b.Run("peer", func(b *testing.B) { benchPushPull(b, peer, content) })
	}
}

func benchPushPull(b *testing.B, base string, content []byte) {
	d := sha256Of(content)
	do := func(method, url string, body io.Reader) *http.Response {
		req, _ := http.NewRequest(method, url, body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	abs := func(loc string) string {
		if strings.HasPrefix(loc, "/") {
			return base + loc
		}
		return loc
	}
	b.Run("push", func(b *testing.B) {
		b.SetBytes(int64(len(content)))
		for b.Loop() {
			resp := do("POST", base+"/v2/team/app/blobs/uploads/", nil)
			// A MultiReader hides the length: the PATCH streams, chunked.
			resp = do("PATCH", abs(resp.Header.Get("Location")), io.MultiReader(bytes.NewReader(content)))
			if resp.StatusCode != 202 {
				b.Fatalf("PATCH: %d", resp.StatusCode)
			}
			loc := abs(resp.Header.Get("Location"))
			sep := "?"
			if strings.Contains(loc, "?") {
				sep = "&"
			}
			if resp = do("PUT", loc+sep+"digest="+d, nil); resp.StatusCode != 201 {
				b.Fatalf("PUT: %d", resp.StatusCode)
			}
		}
	})
	b.Run("pull", func(b *testing.B) {
		b.SetBytes(int64(len(content)))
		for b.Loop() {
			resp, err := http.Get(base + "/v2/team/app/blobs/" + d)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if n != int64(len(content)) {
				b.Fatalf("pulled %d bytes", n)
			}
		}
	})
}
