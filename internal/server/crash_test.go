package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// TestCrashSafety is the crash criterion, with the real binary:
// 32 workers push distinct random images (several layers each; streamed by
// go-containerregistry, chunked, or monolithic) to a `seawall serve` child
// process, which is killed with SIGKILL mid-run and restarted on the same
// data directory, several times. Then:
//   - every push that got its 201 is intact and pullable, every digest
//     verified;
//   - no partial blob is served: every blob any push touched answers 404
//     or bytes that hash to its digest, and every file under blobs/ hashes
//     to its name;
//   - a kill in the middle of `seawall gc` loses nothing committed;
//   - `seawall gc` removes exactly the orphans (blobs no stored manifest
//     references, partial uploads without a session), and everything
//     committed still pulls afterwards.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the seawall binary and kills it several times; not in -short")
	}
	began := time.Now()
	bin := buildSeawall(t)
	t.Logf("built seawall in %s", time.Since(began).Round(time.Millisecond))
	data := t.TempDir()
	c := &crashServer{t: t, bin: bin, data: data, home: t.TempDir(), addr: crashAddr(t)}
	c.start()
	defer c.kill()

	// Auth on: a private project and a robot that may push to it.
	c.cli("", "login", c.url(), "--username", "admin", "--password-stdin")
	c.cli("", "project", "create", "crash")
	var robot struct{ Name, Secret string }
	if err := json.Unmarshal([]byte(c.cli("", "robot", "create", "crash", "pusher", "--permissions", "pull,push", "--format", "json")), &robot); err != nil {
		t.Fatalf("robot create: %v", err)
	}
	pusher := &authn.Basic{Username: robot.Name, Password: robot.Secret}
	admin := &authn.Basic{Username: "admin", Password: adminPW}

	var (
		mu        sync.Mutex
		committed = map[string]v1.Hash{} // "repo:tag" → manifest digest (got a 201)
		attempted []pushAttempt          // every push begun, committed or not
	)
	rounds := []int{6, 20, 40} // kill once this many pushes have committed in the round
	for round, killAfter := range rounds {
		ctx, cancel := context.WithCancel(context.Background())
		var done atomic.Int64
		var wg sync.WaitGroup
		for w := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					p := newPushAttempt(t, round, w, i)
					mu.Lock()
					attempted = append(attempted, p)
					mu.Unlock()
					if err := p.push(ctx, c.addr, pusher); err != nil {
						return // the server died (or the round ended)
					}
					mu.Lock()
					committed[p.repo+":"+p.tag] = p.manifest
					mu.Unlock()
					done.Add(1)
				}
			}()
		}
		// Kill once enough pushes have committed, after a random extra
		// delay so the kill lands at a different point each round.
		deadline := time.Now().Add(2 * time.Minute)
		for done.Load() < int64(killAfter) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		c.kill()
		cancel()
		wg.Wait()
		if done.Load() < int64(killAfter) {
			t.Fatalf("round %d: only %d pushes committed before the deadline", round, done.Load())
		}
		t.Logf("%s: round %d: killed after %d committed pushes (%d begun so far)", time.Since(began).Round(time.Millisecond), round, done.Load(), len(attempted))
		c.start()
		c.checkCommitted(committed, admin)
		t.Logf("%s: restarted, %d committed pushes verified", time.Since(began).Round(time.Millisecond), len(committed))
	}

	// Kill it during a garbage collection too: whatever the sweep had
	// done by then, nothing committed may be lost.
	time.Sleep(1100 * time.Millisecond) // past the grace period
	gcDone := make(chan error, 1)
	go func() {
		cmd := exec.Command(c.bin, "gc")
		cmd.Env = c.env()
		gcDone <- cmd.Run()
	}()
	time.Sleep(time.Duration(50+rand.IntN(100)) * time.Millisecond)
	c.kill()
	t.Logf("killed during gc (gc command: %v)", <-gcDone)
	c.start()
	c.checkCommitted(committed, admin)

	// No partial blob is served, and none is on disk.
	refs := map[string]bool{} // digests of blobs some stored manifest references
	interrupted := 0
	for _, p := range attempted {
		stored := c.manifestStored(p, admin)
		if !stored {
			interrupted++
		}
		for _, b := range p.blobs {
			c.checkBlob(p.repo, b, admin)
			if stored {
				refs[b.digest] = true
			}
		}
	}
	onDisk := c.diskBlobs()
	t.Logf("%s: blobs checked", time.Since(began).Round(time.Millisecond))
	t.Logf("%d pushes begun, %d committed (201), %d manifests not stored; %d blob files, %d referenced",
		len(attempted), len(committed), interrupted, len(onDisk), len(refs))
	if interrupted == 0 {
		t.Fatal("no push was interrupted: the kills did not land mid-push")
	}
	orphans := 0
	for d := range onDisk {
		if !refs[d] {
			orphans++
		}
	}
	if orphans == 0 {
		t.Error("no orphaned blob on disk: the kills left nothing for GC to do")
	}

	// GC once blobs are past the grace period (1s for this server).
	time.Sleep(1500 * time.Millisecond)
	var st struct {
		BlobsDeleted int `json:"blobsDeleted"`
		LiveBlobs    int `json:"liveBlobs"`
	}
	if err := json.Unmarshal([]byte(c.cli("", "gc", "--format", "json")), &st); err != nil {
		t.Fatalf("gc output: %v", err)
	}
	after := c.diskBlobs()
	for d := range onDisk {
		_, kept := after[d]
		switch ref := refs[d]; {
		case ref && !kept:
			t.Errorf("gc deleted %s, which a stored manifest references", d)
		case !ref && kept:
			t.Errorf("gc kept orphan %s", d)
		}
	}
	if st.BlobsDeleted != orphans {
		t.Errorf("gc reports %d blobs deleted, want the %d orphans", st.BlobsDeleted, orphans)
	}
	t.Logf("gc deleted %d orphans, kept %d live blobs", st.BlobsDeleted, len(after))
	c.checkCommitted(committed, admin)

	// Partial uploads the kills cut off: those with a session stay (a
	// client may resume them until registry.upload_ttl); those without one
	// (a single-request upload cut short) go once older than the TTL,
	// which setting their times back a day stands in for.
	sessions := map[string]bool{}
	partial := c.uploadFiles()
	for _, id := range partial {
		sessions[id] = c.hasSession(id, admin)
	}
	old := time.Now().Add(-25 * time.Hour)
	for _, id := range partial {
		if err := os.Chtimes(filepath.Join(c.data, "uploads", id), old, old); err != nil {
			t.Fatal(err)
		}
	}
	var ust struct {
		OrphanUploads  int `json:"orphanUploads"`
		UploadsExpired int `json:"uploadsExpired"`
	}
	if err := json.Unmarshal([]byte(c.cli("", "gc", "--format", "json")), &ust); err != nil {
		t.Fatalf("gc output: %v", err)
	}
	remaining := map[string]bool{}
	for _, id := range c.uploadFiles() {
		remaining[id] = true
	}
	orphanUploads := 0
	for _, id := range partial {
		switch {
		case sessions[id] && !remaining[id]:
			t.Errorf("gc removed partial upload %s, which has a session", id)
		case !sessions[id] && remaining[id]:
			t.Errorf("gc kept partial upload %s, which has no session", id)
		case !sessions[id]:
			orphanUploads++
		}
	}
	if ust.OrphanUploads != orphanUploads || ust.UploadsExpired != 0 {
		t.Errorf("gc reports %d orphaned partial uploads and %d expired sessions, want %d and 0", ust.OrphanUploads, ust.UploadsExpired, orphanUploads)
	}
	t.Logf("%d partial uploads after the kills: %d with a session kept, %d orphans removed", len(partial), len(partial)-orphanUploads, orphanUploads)

	// A clean restart after all that still serves everything.
	c.kill()
	c.start()
	c.checkCommitted(committed, admin)
}

// crashBlob is a digest with its content's size.
type crashBlob struct {
	digest string
	size   int64
}

// pushAttempt is one image push: a random image with its manifest, config
// and layer digests, and how its blobs are uploaded.
type pushAttempt struct {
	repo, tag string
	mode      string // "remote" (go-containerregistry), "chunked", "monolithic"
	img       v1.Image
	manifest  v1.Hash
	raw       []byte // manifest bytes
	mediaType string
	blobs     []crashBlob // config and layers
	content   map[string][]byte
}

func newPushAttempt(t *testing.T, round, w, i int) pushAttempt {
	nLayers := 2 + (w+i)%3
	img, err := random.Image(int64(32<<10+rand.IntN(128<<10)), int64(nLayers))
	if err != nil {
		t.Error(err)
		return pushAttempt{}
	}
	p := pushAttempt{
		repo: fmt.Sprintf("crash/w%02d", w), tag: fmt.Sprintf("r%d-%d", round, i),
		mode: []string{"remote", "chunked", "monolithic"}[w%3], img: img, content: map[string][]byte{},
	}
	p.manifest, _ = img.Digest()
	p.raw, _ = img.RawManifest()
	mt, _ := img.MediaType()
	p.mediaType = string(mt)
	cfg, _ := img.RawConfigFile()
	cd, _ := img.ConfigName()
	p.blobs = append(p.blobs, crashBlob{cd.String(), int64(len(cfg))})
	p.content[cd.String()] = cfg
	layers, _ := img.Layers()
	for _, l := range layers {
		d, _ := l.Digest()
		rc, err := l.Compressed()
		if err != nil {
			t.Error(err)
			return p
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		p.blobs = append(p.blobs, crashBlob{d.String(), int64(len(b))})
		p.content[d.String()] = b
	}
	return p
}

// push uploads the image; nil means the manifest PUT got its 201.
func (p *pushAttempt) push(ctx context.Context, addr string, a *authn.Basic) error {
	if p.img == nil {
		return errors.New("no image")
	}
	if p.mode == "remote" {
		ref, err := name.ParseReference(addr+"/"+p.repo+":"+p.tag, name.Insecure)
		if err != nil {
			return err
		}
		return remote.Write(ref, p.img, remote.WithAuth(a), remote.WithContext(ctx), remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	}
	base := "http://" + addr + "/v2/" + p.repo
	do := func(method, url string, body []byte, hdr ...string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(a.Username, a.Password)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp, nil
	}
	location := func(resp *http.Response) string {
		loc := resp.Header.Get("Location")
		if strings.HasPrefix(loc, "/") {
			loc = "http://" + addr + loc
		}
		return loc
	}
	sep := func(u string) string {
		if strings.Contains(u, "?") {
			return "&"
		}
		return "?"
	}
	for _, b := range p.blobs {
		content := p.content[b.digest]
		if p.mode == "monolithic" {
			resp, err := do("POST", base+"/blobs/uploads/?digest="+b.digest, content, "Content-Type", "application/octet-stream")
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusCreated {
				return fmt.Errorf("monolithic %s: %d", b.digest, resp.StatusCode)
			}
			continue
		}
		resp, err := do("POST", base+"/blobs/uploads/", nil)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("start upload: %d", resp.StatusCode)
		}
		const chunk = 48 << 10
		off := 0
		for off+chunk < len(content) {
			resp, err = do("PATCH", location(resp), content[off:off+chunk], "Content-Type", "application/octet-stream",
				"Content-Range", fmt.Sprintf("%d-%d", off, off+chunk-1))
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusAccepted {
				return fmt.Errorf("chunk at %d: %d", off, resp.StatusCode)
			}
			off += chunk
		}
		loc := location(resp)
		resp, err = do("PUT", loc+sep(loc)+"digest="+b.digest, content[off:], "Content-Type", "application/octet-stream",
			"Content-Range", fmt.Sprintf("%d-%d", off, len(content)-1))
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("finish %s: %d", b.digest, resp.StatusCode)
		}
	}
	resp, err := do("PUT", base+"/manifests/"+p.tag, p.raw, "Content-Type", p.mediaType)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("manifest: %d", resp.StatusCode)
	}
	return nil
}

// buildSeawall builds cmd/seawall into a temporary directory.
func buildSeawall(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is needed to build the seawall binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "seawall")
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/seawall-dev/seawall/cmd/seawall")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func crashAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// crashServer is a `seawall serve` child process on a fixed address and
// data directory, with a 1s GC grace period.
type crashServer struct {
	t          *testing.T
	bin, data  string
	home, addr string
	cmd        *exec.Cmd
	logs       *bytes.Buffer
}

func (c *crashServer) url() string { return "http://" + c.addr }

func (c *crashServer) env() []string {
	return append(os.Environ(), "HOME="+c.home, "XDG_CONFIG_HOME="+filepath.Join(c.home, ".config"),
		"SEAWALL_ADMIN_PASSWORD="+adminPW, "SEAWALL_REGISTRY_GC_GRACE=1s", "SEAWALL_LOG_LEVEL=warn")
}

func (c *crashServer) start() {
	c.t.Helper()
	c.logs = &bytes.Buffer{}
	c.cmd = exec.Command(c.bin, "serve", "--addr", c.addr, "--data", c.data)
	c.cmd.Env = c.env()
	w := &lockedWriter{mu: make(chan struct{}, 1), w: c.logs}
	c.cmd.Stdout, c.cmd.Stderr = w, w
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	for range 300 {
		resp, err := http.Get(c.url() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.kill()
	c.t.Fatalf("seawall serve did not become ready:\n%s", c.logs)
}

// kill sends SIGKILL and reaps the process.
func (c *crashServer) kill() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
	c.cmd = nil
}

// cli runs a seawall client command against the server.
func (c *crashServer) cli(stdin string, args ...string) string {
	c.t.Helper()
	if stdin == "" && len(args) > 0 && args[0] == "login" {
		stdin = adminPW + "\n"
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("seawall %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// checkCommitted pulls every committed push and verifies every digest.
func (c *crashServer) checkCommitted(committed map[string]v1.Hash, a authn.Authenticator) {
	c.t.Helper()
	keys := make([]string, 0, len(committed))
	for k := range committed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ref, err := name.ParseReference(c.addr+"/"+k, name.Insecure)
		if err != nil {
			c.t.Fatal(err)
		}
		img, err := remote.Image(ref, remote.WithAuth(a))
		if err != nil {
			c.t.Errorf("committed push %s is not pullable: %v", k, err)
			continue
		}
		if d, _ := img.Digest(); d != committed[k] {
			c.t.Errorf("%s is %s, want the pushed %s", k, d, committed[k])
		}
		if err := validate.Image(img); err != nil {
			c.t.Errorf("committed push %s is damaged: %v", k, err)
		}
	}
}

// manifestStored reports whether the registry has p's manifest (by
// digest), whether or not its push saw the 201.
func (c *crashServer) manifestStored(p pushAttempt, a *authn.Basic) bool {
	c.t.Helper()
	req, _ := http.NewRequest("HEAD", c.url()+"/v2/"+p.repo+"/manifests/"+p.manifest.String(), nil)
	req.SetBasicAuth(a.Username, a.Password)
	req.Header.Set("Accept", p.mediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true
	case http.StatusNotFound:
		return false
	}
	c.t.Fatalf("HEAD manifest %s@%s: %d", p.repo, p.manifest, resp.StatusCode)
	return false
}

// checkBlob fails unless the blob is absent or whole: HEAD and GET give
// 404, or the right size and bytes that hash to the digest.
func (c *crashServer) checkBlob(repo string, b crashBlob, a *authn.Basic) {
	c.t.Helper()
	for _, method := range []string{"HEAD", "GET"} {
		req, _ := http.NewRequest(method, c.url()+"/v2/"+repo+"/blobs/"+b.digest, nil)
		req.SetBasicAuth(a.Username, a.Password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNotFound:
		case resp.StatusCode != http.StatusOK:
			c.t.Errorf("%s %s@%s: %d %s", method, repo, b.digest, resp.StatusCode, body)
		case resp.ContentLength != b.size:
			c.t.Errorf("%s %s@%s: Content-Length %d, want %d", method, repo, b.digest, resp.ContentLength, b.size)
		case method == "GET" && (err != nil || crashSHA256(body) != b.digest):
			c.t.Errorf("GET %s@%s served %d bytes hashing to %s (%v)", repo, b.digest, len(body), crashSHA256(body), err)
		}
	}
}

func crashSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// diskBlobs returns the digests of the blob files, failing the test for
// any file whose bytes do not hash to its name.
func (c *crashServer) diskBlobs() map[string]struct{} {
	c.t.Helper()
	out := map[string]struct{}{}
	root := filepath.Join(c.data, "blobs", "sha256")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		digest := "sha256:" + d.Name()
		if got := crashSHA256(b); got != digest {
			c.t.Errorf("blob file %s holds %d bytes hashing to %s", path, len(b), got)
		}
		out[digest] = struct{}{}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.t.Fatal(err)
	}
	return out
}

// uploadFiles lists the partial upload files.
func (c *crashServer) uploadFiles() []string {
	c.t.Helper()
	entries, err := os.ReadDir(filepath.Join(c.data, "uploads"))
	if err != nil {
		c.t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			ids = append(ids, e.Name())
		}
	}
	return ids
}

// hasSession reports whether upload id is a live session of one of the
// workers' repositories.
func (c *crashServer) hasSession(id string, a *authn.Basic) bool {
	c.t.Helper()
	for w := range 32 {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v2/crash/w%02d/blobs/uploads/%s", c.url(), w, id), nil)
		req.SetBasicAuth(a.Username, a.Password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusNoContent:
			return true
		case http.StatusNotFound:
		default:
			c.t.Fatalf("upload status %s: %d", id, resp.StatusCode)
		}
	}
	return false
}
