package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestScanQueueCrash is the crash criterion for the scan queue,
// with the real binary: 50 scans are queued, the server is killed with
// SIGKILL, restarted on the same data directory, and then every one of
// the 50 completes, exactly once (one "scan completed" per image across
// both processes' logs, one stored result each, and an empty queue).
func TestScanQueueCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the seawall binary and kills it; not in -short")
	}
	bin := buildSeawall(t)
	data := t.TempDir()
	dbDir := filepath.Join(data, "vulndb")
	importAdvisories(t, dbDir, "testdata/pipeline/advisories.json")
	p := &scanProc{t: t, bin: bin, data: data, addr: crashAddr(t), home: t.TempDir()}
	p.start()
	defer p.kill()

	admin := &authn.Basic{Username: "admin", Password: adminPW}
	p.api("POST", "/api/v1/projects", createProjectRequest{Name: "crash"}, nil)
	const n = 50
	var digests []string
	for i := range n {
		img := statusImage(t, "testdata/pipeline/downgraded-status", fmt.Sprintf("crash-%d", i))
		ref, err := name.ParseReference(fmt.Sprintf("%s/crash/app:v%d", p.addr, i), name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img, remote.WithAuth(admin)); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
		d, _ := img.Digest()
		digests = append(digests, d.String())
	}
	// Queue all 50 (no scan on push in this project), then kill at once.
	var rs rescanResponse
	p.api("POST", "/api/v1/rescan", rescanRequest{Project: "crash"}, &rs)
	if rs.QueuedScans != n {
		t.Fatalf("rescan queued %d scans, want %d", rs.QueuedScans, n)
	}
	killedAt := time.Now()
	p.kill()
	before := completions(p.logs.String())
	t.Logf("%d of %d scans completed before SIGKILL", len(before), n)
	if len(before) >= n {
		t.Fatalf("all %d scans finished before the kill; the test proves nothing", n)
	}

	p.start()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var st scanStatusJSON
		done := 0
		for _, d := range digests {
			p.api("GET", "/api/v1/scan?repository=crash/app&reference="+d, nil, &st)
			if st.Status == "scanned" {
				done++
			}
		}
		if done == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d scanned 5 minutes after the restart\n%s", done, n, p.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The logs of both runs: each image completed once, in one of them.
	// A worker logs "scan completed" just after its result commits, so a
	// scan the first process committed right before SIGKILL may have no
	// line: its stored result then dates from before the kill, which
	// shows the restarted server did not scan it again. The restarted
	// server's own last lines may also trail its commits by a moment.
	var all map[string]int
	for wait := time.Now().Add(3 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		all = completions(p.logs.String())
		if len(all) == n || time.Now().After(wait) {
			break
		}
	}
	for _, d := range digests {
		switch c := all[d]; {
		case c > 1:
			t.Errorf("%s completed %d times (%d before the kill): scanned twice", d, c, before[d])
		case c == 0:
			var st scanStatusJSON
			p.api("GET", "/api/v1/scan?repository=crash/app&reference="+d, nil, &st)
			if st.ScannedAt == nil || !st.ScannedAt.Before(killedAt) {
				t.Errorf("%s: scanned at %v, after the kill at %v, but never logged as completed", d, st.ScannedAt, killedAt)
			} else {
				t.Logf("%s committed at %v, just before the kill, unlogged", d, st.ScannedAt)
			}
		}
	}
	// Nothing is left in the queue.
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`seawall_scan_queue_depth{priority="10"} 0`, "seawall_scan_jobs_running 0"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics after the restart lacks %q", want)
		}
	}
}

var completedRE = regexp.MustCompile(`msg="scan completed".* digest=(sha256:[0-9a-f]{64})`)

// completions counts "scan completed" log lines per digest.
func completions(logs string) map[string]int {
	out := map[string]int{}
	for _, m := range completedRE.FindAllStringSubmatch(logs, -1) {
		out[m[1]]++
	}
	return out
}

// scanProc is `seawall serve` as a child process, logging at info level
// (both runs' logs accumulate), with a short scan lease.
type scanProc struct {
	t                     *testing.T
	bin, data, addr, home string
	cmd                   *exec.Cmd
	mu                    sync.Mutex
	logs                  bytes.Buffer
}

func (p *scanProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

func (p *scanProc) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, "serve", "--addr", p.addr, "--data", p.data)
	p.cmd.Env = append(os.Environ(), "HOME="+p.home, "XDG_CONFIG_HOME="+filepath.Join(p.home, ".config"),
		"SEAWALL_ADMIN_PASSWORD="+adminPW, "SEAWALL_LOG_LEVEL=info", "SEAWALL_SCAN_LEASE=3s", "SEAWALL_METRICS_ANONYMOUS=true")
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	for range 300 {
		resp, err := http.Get("http://" + p.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.kill()
	p.t.Fatalf("seawall serve did not become ready:\n%s", p.logs.String())
}

func (p *scanProc) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	p.cmd = nil
}

// api calls the JSON API as admin (Basic) and decodes a 2xx answer into out.
func (p *scanProc) api(method, path string, body, out any) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+p.addr+path, rd)
	if err != nil {
		p.t.Fatal(err)
	}
	req.SetBasicAuth("admin", adminPW)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		p.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			p.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}
