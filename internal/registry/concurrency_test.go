package registry_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Many clients pushing the same blob at once, to one repository and to
// several, all succeed and leave one copy.
func TestConcurrentPushesOfTheSameBlob(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			e := newEnv(t, envOptions{backend: backend})
			content := bytes.Repeat([]byte("shared layer "), 50_000)
			d := sha256Of(content)
			var wg sync.WaitGroup
			errs := make(chan error, 32)
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					repo := fmt.Sprintf("team/r%d", i%4)
					resp, _ := e.do("POST", "/v2/"+repo+"/blobs/uploads/", nil)
					if resp.StatusCode != 202 {
						errs <- fmt.Errorf("POST: %d", resp.StatusCode)
						return
					}
					loc := resp.Header.Get("Location")
					// Half stream in two PATCHes, half send everything on the PUT.
					if i%2 == 0 {
						if resp, _ := e.do("PATCH", loc, bytes.NewReader(content[:1000])); resp.StatusCode != 202 {
							errs <- fmt.Errorf("PATCH: %d", resp.StatusCode)
							return
						}
						resp, _ = e.do("PUT", loc+"?digest="+d, bytes.NewReader(content[1000:]))
					} else {
						resp, _ = e.do("PUT", loc+"?digest="+d, bytes.NewReader(content))
					}
					if resp.StatusCode != 201 {
						errs <- fmt.Errorf("PUT: %d", resp.StatusCode)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			for i := range 4 {
				resp, b := e.do("GET", fmt.Sprintf("/v2/team/r%d/blobs/%s", i, d), nil)
				if resp.StatusCode != 200 || !bytes.Equal(b, content) {
					t.Errorf("r%d: %d, %d bytes", i, resp.StatusCode, len(b))
				}
			}
			files, _ := filepath.Glob(filepath.Join(e.data, "blobs", "sha256", "*", "*"))
			if len(files) != 1 {
				t.Errorf("%d blob files, want 1", len(files))
			}
			if ups, _ := os.ReadDir(filepath.Join(e.data, "uploads")); len(ups) != 0 {
				t.Errorf("%d partial uploads left", len(ups))
			}
		})
	}
}

// Two requests racing for the same chunk of one session: one wins, the
// other is told where the upload now ends.
func TestConcurrentChunksOnOneSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	resp, _ := e.do("POST", "/v2/team/app/blobs/uploads/", nil)
	loc := resp.Header.Get("Location")
	chunk := bytes.Repeat([]byte("x"), 100_000)
	const racers = 8
	codes := make(chan int, racers)
	var wg sync.WaitGroup
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := e.do("PATCH", loc, bytes.NewReader(chunk), "Content-Range", fmt.Sprintf("0-%d", len(chunk)-1))
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[http.StatusAccepted] != 1 || count[http.StatusRequestedRangeNotSatisfiable] != racers-1 {
		t.Errorf("status counts %v, want one 202 and %d 416", count, racers-1)
	}
	resp, _ = e.do("PUT", loc+"?digest="+sha256Of(chunk), nil)
	if resp.StatusCode != 201 {
		t.Errorf("finish: %d", resp.StatusCode)
	}
}

// Tag moves racing each other leave the tag on one of the pushed
// manifests, never on nothing.
func TestConcurrentTagPushes(t *testing.T) {
	e := newEnv(t, envOptions{})
	var imgs []testImage
	for i := range 8 {
		imgs = append(imgs, e.pushImage("team/app", "", fmt.Sprint(i)))
	}
	var wg sync.WaitGroup
	for _, img := range imgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				e.do("PUT", "/v2/team/app/manifests/latest", bytes.NewReader(img.manifest), "Content-Type", "application/vnd.oci.image.manifest.v1+json")
			}
		}()
	}
	wg.Wait()
	resp, b := e.do("GET", "/v2/team/app/manifests/latest", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET latest: %d", resp.StatusCode)
	}
	found := false
	for _, img := range imgs {
		found = found || bytes.Equal(b, img.manifest)
	}
	if !found {
		t.Error("latest points at none of the pushed manifests")
	}
}
