package registry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/testsupport"
)

func TestGCRemovesOnlyOrphans(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			clock := testsupport.NewClock(time.Now())
			e := newEnv(t, envOptions{backend: backend, now: clock.Now, cfg: func(c *registry.Config) { c.UploadTTL = 24 * time.Hour }})
			kept := e.pushImage("team/app", "v1", "kept")
			gone := e.pushImage("team/app", "v2", "gone")
			orphan := e.pushBlob("team/app", []byte("never referenced"))
			shared := e.pushImage("other/x", "v1", "kept") // same blobs as kept, in another repo
			if resp, _ := e.do("DELETE", "/v2/team/app/manifests/"+gone.digest, nil); resp.StatusCode != 202 {
				t.Fatal("delete manifest")
			}
			// An idle upload session with bytes, and a partial upload file
			// with no session.
			resp, _ := e.do("POST", "/v2/team/app/blobs/uploads/", nil)
			idle := resp.Header.Get("Location")
			e.do("PATCH", idle, bytes.NewReader([]byte("half a layer")))
			stray := filepath.Join(e.data, "uploads", "stray-upload")
			if err := os.WriteFile(stray, []byte("crashed"), 0o600); err != nil {
				t.Fatal(err)
			}
			// A session still in use.
			clock.Advance(23 * time.Hour)
			resp, _ = e.do("POST", "/v2/team/app/blobs/uploads/", nil)
			active := resp.Header.Get("Location")
			e.do("PATCH", active, bytes.NewReader([]byte("in progress")))
			clock.Advance(2 * time.Hour)

			want := []string{gone.config, gone.layer, orphan}
			slices.Sort(want)

			dry, err := e.reg.GC(context.Background(), registry.GCOptions{DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(dry.Deleted)
			if !slices.Equal(dry.Deleted, want) || dry.UploadsExpired != 1 || dry.OrphanUploads != 1 {
				t.Errorf("dry run = %+v, want deleted %v, 1 expired upload and 1 orphan", dry, want)
			}
			if resp, _ := e.do("HEAD", "/v2/team/app/blobs/"+orphan, nil); resp.StatusCode != 200 {
				t.Fatalf("dry run deleted a blob: %d", resp.StatusCode)
			}

			stats, err := e.reg.GC(context.Background(), registry.GCOptions{})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(stats.Deleted)
			if !slices.Equal(stats.Deleted, want) || stats.UploadsExpired != 1 || stats.OrphanUploads != 1 {
				t.Errorf("gc = %+v, want deleted %v", stats, want)
			}
			for _, d := range want {
				if resp, _ := e.do("HEAD", "/v2/team/app/blobs/"+d, nil); resp.StatusCode != 404 {
					t.Errorf("collected blob %s: HEAD %d", d, resp.StatusCode)
				}
			}
			for _, repo := range []string{"team/app", "other/x"} {
				for _, d := range []string{kept.config, kept.layer} {
					if resp, _ := e.do("GET", "/v2/"+repo+"/blobs/"+d, nil); resp.StatusCode != 200 {
						t.Errorf("live blob %s in %s: GET %d", d, repo, resp.StatusCode)
					}
				}
			}
			if resp, b := e.do("GET", "/v2/other/x/manifests/"+shared.digest, nil); resp.StatusCode != 200 || !bytes.Equal(b, shared.manifest) {
				t.Errorf("manifest after gc: %d", resp.StatusCode)
			}
			if resp, _ := e.do("GET", idle, nil); resp.StatusCode != 404 {
				t.Errorf("idle session after gc: %d", resp.StatusCode)
			}
			if resp, _ := e.do("GET", active, nil); resp.StatusCode != 204 {
				t.Errorf("active session after gc: %d", resp.StatusCode)
			}
			if _, err := os.Stat(stray); !os.IsNotExist(err) {
				t.Errorf("stray upload file survived: %v", err)
			}
			// A second run finds nothing.
			again, err := e.reg.GC(context.Background(), registry.GCOptions{})
			if err != nil || again.BlobsDeleted != 0 || again.UploadsExpired != 0 {
				t.Errorf("second gc = %+v, %v", again, err)
			}
		})
	}
}

// Blobs pushed within the grace period are kept even when no manifest
// references them yet: their push is still in flight.
func TestGCGraceKeepsPushesInFlight(t *testing.T) {
	e := newEnv(t, envOptions{})
	d := e.pushBlob("team/app", []byte("layer of a push in flight"))
	stats, err := e.reg.GC(context.Background(), registry.GCOptions{Grace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if stats.BlobsDeleted != 0 {
		t.Errorf("gc deleted %v", stats.Deleted)
	}
	if resp, _ := e.do("HEAD", "/v2/team/app/blobs/"+d, nil); resp.StatusCode != 200 {
		t.Errorf("blob of a push in flight: %d", resp.StatusCode)
	}
}

func TestGCOneAtATime(t *testing.T) {
	block := make(chan struct{})
	st := &slowStore{MemStore: testsupport.NewMemStore(), block: block, entered: make(chan struct{})}
	blobs := newBlobStore(t, t.TempDir())
	reg, err := registry.New(registry.Config{Store: st, Blobs: blobs, Uploads: blobs, Auth: testsupport.AllowAll{}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { _, err := reg.GC(context.Background(), registry.GCOptions{}); done <- err }()
	<-st.entered
	if _, err := reg.GC(context.Background(), registry.GCOptions{}); !errors.Is(err, registry.ErrGCRunning) {
		t.Errorf("concurrent GC = %v, want ErrGCRunning", err)
	}
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

type slowStore struct {
	*testsupport.MemStore
	block   chan struct{}
	entered chan struct{}
	once    sync.Once
}

// LiveBlobs signals that a collection is marking and waits for block.
func (s *slowStore) LiveBlobs(ctx context.Context, notBefore time.Time, fn func(string) error) error {
	s.once.Do(func() { close(s.entered) })
	<-s.block
	return s.MemStore.LiveBlobs(ctx, notBefore, fn)
}

// Pushes racing garbage collection: whatever push got its 201 is intact
// afterwards, with every blob present and matching its digest. With no
// grace period some pushes may be refused (their blobs were collected
// before the manifest arrived), but none is ever left broken.
func TestGCDuringConcurrentPushes(t *testing.T) {
	for _, grace := range []time.Duration{time.Nanosecond, time.Hour} {
		t.Run(grace.String(), func(t *testing.T) {
			e := newEnv(t, envOptions{})
			const pushers, images = 6, 4
			ctx, cancel := context.WithCancel(context.Background())
			var gcRuns int
			gcDone := make(chan error, 1)
			go func() {
				for ctx.Err() == nil {
					if _, err := e.reg.GC(ctx, registry.GCOptions{Grace: grace}); err != nil && ctx.Err() == nil {
						gcDone <- err
						return
					}
					gcRuns++
				}
				gcDone <- nil
			}()
			var (
				mu     sync.Mutex
				ok     []string
				failed int
				wg     sync.WaitGroup
			)
			for p := range pushers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range images {
						img := randomImage(t, 4096, 3)
						name := fmt.Sprintf("team/p%d:i%d", p, i)
						err := remote.Write(e.ref(name), img)
						mu.Lock()
						if err == nil {
							ok = append(ok, name)
						} else {
							failed++
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			cancel()
			if err := <-gcDone; err != nil {
				t.Fatalf("gc: %v", err)
			}
			// One more collection after the dust settles.
			if _, err := e.reg.GC(context.Background(), registry.GCOptions{Grace: grace}); err != nil {
				t.Fatal(err)
			}
			t.Logf("grace %s: %d pushes succeeded, %d refused, %d gc runs", grace, len(ok), failed, gcRuns)
			if grace >= time.Minute && failed > 0 {
				t.Errorf("%d pushes failed although the grace period covers them", failed)
			}
			for _, s := range ok {
				img, err := remote.Image(e.ref(s))
				if err != nil {
					t.Errorf("%s: %v", s, err)
					continue
				}
				if err := validate.Image(img); err != nil {
					t.Errorf("%s is broken after gc: %v", s, err)
				}
			}
		})
	}
}
