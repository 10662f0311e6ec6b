package scanq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/blob"
	blobfs "github.com/seawall-dev/seawall/internal/blob/fs"
	"github.com/seawall-dev/seawall/internal/events"
	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/store/sqlite"
	"github.com/seawall-dev/seawall/internal/verdict"
	"github.com/seawall-dev/seawall/internal/vulndb"
)

// env is a scanner over a real SQLite store, real blob storage and a real
// vulnerability database.
type env struct {
	t      testing.TB
	st     *sqlite.Store
	blobs  *blobfs.Store
	dbDir  string
	db     *VulnDB
	q      *Queue
	mu     sync.Mutex
	events []events.Event
}

func newEnv(t testing.TB, records ...string) *env {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "seawall.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := blobfs.New(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, blobs: blobs, dbDir: filepath.Join(dir, "vulndb")}
	e.importRecords(records...)
	e.db, err = OpenVulnDB(e.dbDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	e.q, err = New(Config{
		Store: st, Blobs: blobs, DB: e.db, Lease: 3 * time.Second, Poll: 20 * time.Millisecond,
		Events: events.Func(func(_ context.Context, ev events.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// importRecords adds OSV records to the database.
func (e *env) importRecords(records ...string) {
	e.t.Helper()
	if len(records) == 0 {
		return
	}
	dir := e.t.TempDir()
	var inputs []vulndb.Input
	for i, r := range records {
		p := filepath.Join(dir, fmt.Sprintf("r%d.json", i))
		if err := os.WriteFile(p, []byte(r), 0o644); err != nil {
			e.t.Fatal(err)
		}
		inputs = append(inputs, vulndb.Input{Location: p, Name: fmt.Sprintf("test-%d", i)})
	}
	if err := os.MkdirAll(e.dbDir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	if _, err := vulndb.Import(context.Background(), vulndb.Path(e.dbDir), inputs, vulndb.ImportOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// record is an OSV record for the Debian 12 source package src, fixed in
// fixed, with a CVSS v3 vector.
func record(id, src, fixed, vector string) string {
	b, _ := json.Marshal(map[string]any{
		"schema_version": "1.6.0",
		"id":             "DEBIAN-" + id,
		"aliases":        []string{id},
		"modified":       "2024-01-01T00:00:00Z",
		"severity":       []map[string]string{{"type": "CVSS_V3", "score": vector}},
		"affected": []map[string]any{{
			"package": map[string]string{"ecosystem": "Debian:12", "name": src},
			"ranges":  []map[string]any{{"type": "ECOSYSTEM", "events": []map[string]string{{"introduced": "0"}, {"fixed": fixed}}}},
		}},
	})
	return string(b)
}

const (
	high     = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N" // 7.5
	critical = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" // 9.8
)

// debianImage is a Debian 12 image with the given dpkg packages ("name
// source version").
func debianImage(pkgs ...[3]string) []imagetest.Layer { return seededImage("", pkgs...) }

// seededImage is debianImage with a file that makes it unique to seed.
func seededImage(seed string, pkgs ...[3]string) []imagetest.Layer {
	var status bytes.Buffer
	for _, p := range pkgs {
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nArchitecture: amd64\nSource: %s\nVersion: %s\n\n", p[0], p[1], p[2])
	}
	return []imagetest.Layer{imagetest.NewLayer(true,
		imagetest.File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"),
		imagetest.File("var/lib/dpkg/status", status.String()),
		imagetest.File("etc/seed", seed),
	)}
}

// push stores an image as the registry would: blobs in blob storage and
// linked, then the manifest. It returns the manifest digest.
func (e *env) push(repo, tag string, layers []imagetest.Layer) string {
	e.t.Helper()
	ctx := context.Background()
	project, _, _ := cut(repo)
	if _, err := e.st.ProjectByName(ctx, project); errors.Is(err, store.ErrNotFound) {
		if err := e.st.CreateProject(ctx, &store.Project{Name: project}); err != nil {
			e.t.Fatal(err)
		}
	}
	r, err := e.st.EnsureRepository(ctx, repo)
	if err != nil {
		e.t.Fatal(err)
	}
	put := func(b []byte) map[string]any {
		d := imagetest.Digest(b)
		w, err := e.blobs.Writer(ctx, fmt.Sprintf("u%d", time.Now().UnixNano()), blob.Resume{Algorithm: "sha256"})
		if err != nil {
			e.t.Fatal(err)
		}
		w.Write(b)
		if _, err := w.Commit(ctx, blob.Digest(d)); err != nil {
			e.t.Fatal(err)
		}
		w.Close()
		if err := e.st.LinkBlob(ctx, repo, d, int64(len(b))); err != nil {
			e.t.Fatal(err)
		}
		return map[string]any{"digest": d, "size": len(b)}
	}
	cfg := imagetest.Config(layers)
	cd := put(cfg)
	cd["mediaType"] = "application/vnd.oci.image.config.v1+json"
	refs := []string{cd["digest"].(string)}
	var ls []map[string]any
	for _, l := range layers {
		ld := put(l.Blob)
		ld["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
		ls = append(ls, ld)
		refs = append(refs, ld["digest"].(string))
	}
	content, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cd, "layers": ls})
	m := &store.Manifest{RepositoryID: r.ID, Digest: imagetest.Digest(content), MediaType: "application/vnd.oci.image.manifest.v1+json",
		ArtifactType: "application/vnd.oci.image.config.v1+json", Size: int64(len(content)), Content: content}
	if err := e.st.PutManifest(ctx, m, refs, tag); err != nil {
		e.t.Fatal(err)
	}
	return m.Digest
}

func cut(repo string) (string, string, bool) {
	for i := range len(repo) {
		if repo[i] == '/' {
			return repo[:i], repo[i+1:], true
		}
	}
	return repo, "", false
}

func (e *env) setPolicy(project string, p verdict.Policy) {
	e.t.Helper()
	ctx := context.Background()
	proj, err := e.st.ProjectByName(ctx, project)
	if err != nil {
		e.t.Fatal(err)
	}
	if proj.Settings, err = verdict.WithPolicy(proj.Settings, p); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.UpdateProject(ctx, proj); err != nil {
		e.t.Fatal(err)
	}
}

// run starts the workers until the test ends.
func (e *env) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.q.Run(ctx); close(done) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// result waits for the artifact's result.
func (e *env) result(repo, digest string) (*store.ScanResult, verdict.Verdict, []inventory.Finding) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := e.st.ScanResult(context.Background(), repo, digest)
		if err == nil {
			var v verdict.Verdict
			var fs []inventory.Finding
			if err := json.Unmarshal(res.Verdict, &v); err != nil {
				e.t.Fatalf("verdict: %v", err)
			}
			if err := json.Unmarshal(res.Findings, &fs); err != nil && res.Error == "" {
				e.t.Fatalf("findings: %v", err)
			}
			return res, v, fs
		}
		if !errors.Is(err, store.ErrNotFound) {
			e.t.Fatal(err)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no scan result for %s@%s after 30s", repo, digest)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) eventsOf(kind events.Kind) []events.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []events.Event
	for _, ev := range e.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func TestScanFromBlobStorage(t *testing.T) {
	e := newEnv(t, record("CVE-2099-0001", "zlib", "1:1.2.13.dfsg-2", high))
	e.push("team/base", "v1", debianImage([3]string{"busybox", "busybox", "1:1.35.0-4"})) // makes the project
	e.setPolicy("team", verdict.Policy{ScanOnPush: true, PreventSeverity: "HIGH"})
	vuln := e.push("team/app", "v1", debianImage([3]string{"zlib1g", "zlib", "1:1.2.13.dfsg-1"}, [3]string{"libc6", "glibc", "2.36-9"}))
	clean := e.push("team/app", "v2", debianImage([3]string{"zlib1g", "zlib", "1:1.2.13.dfsg-2"}))
	ctx := context.Background()
	for _, d := range []string{vuln, clean} {
		if _, err := e.q.Enqueue(ctx, "team/app", d, store.ScanPriorityPush, "push"); err != nil {
			t.Fatal(err)
		}
	}
	e.run()

	res, v, fs := e.result("team/app", vuln)
	if len(fs) != 1 || fs[0].ID != "CVE-2099-0001" || fs[0].Severity != inventory.SeverityHigh || fs[0].PackageName != "zlib1g" {
		t.Fatalf("findings = %+v", fs)
	}
	if v.Allowed || v.WorstSeverity != "HIGH" || len(v.Failed()) != 1 || v.Failed()[0].Rule != verdict.RuleSeverity {
		t.Fatalf("verdict = %+v", v)
	}
	var inv inventory.Inventory
	if err := json.Unmarshal(res.SBOM, &inv); err != nil || len(inv.Packages) != 2 || inv.Source.Digest != vuln {
		t.Fatalf("SBOM: %v %+v", err, inv.Source)
	}
	if info, _ := e.db.Info(); !res.DBBuiltAt.Equal(info.BuiltAt.UTC().Truncate(time.Microsecond)) {
		t.Errorf("DBBuiltAt = %v, want %v", res.DBBuiltAt, info.BuiltAt)
	}
	_, v2, fs2 := e.result("team/app", clean)
	if len(fs2) != 0 || !v2.Allowed {
		t.Fatalf("clean image: %+v %+v", fs2, v2)
	}
	// Two images, a config and a layer each.
	if got := e.q.BlobReads(); got != 4 {
		t.Errorf("blob reads = %d, want 4", got)
	}
	if got := len(e.eventsOf(events.KindScanCompleted)); got != 2 {
		t.Errorf("scan-completed events = %d, want 2", got)
	}
}

// TestRematchReadsNoLayer imports a new advisory and rematches: verdicts
// change, events say so, and no blob is read.
func TestRematchReadsNoLayer(t *testing.T) {
	e := newEnv(t, record("CVE-2099-0001", "zlib", "1:1.2.13.dfsg-2", high))
	e.push("team/base", "v1", debianImage([3]string{"busybox", "busybox", "1:1.35.0-4"}))
	e.setPolicy("team", verdict.Policy{PreventSeverity: "CRITICAL"})
	ctx := context.Background()
	var ds []string
	for i := range 10 {
		ver := "2.36-9"
		if i%2 == 0 {
			ver = "2.36-8"
		}
		d := e.push("team/app", fmt.Sprintf("v%d", i), seededImage(fmt.Sprint(i), [3]string{"libc6", "glibc", ver}, [3]string{"zlib1g", "zlib", "1:1.2.13.dfsg-2"}))
		ds = append(ds, d)
		if _, err := e.q.Enqueue(ctx, "team/app", d, store.ScanPriorityPush, "push"); err != nil {
			t.Fatal(err)
		}
	}
	e.run()
	for _, d := range ds {
		if _, v, _ := e.result("team/app", d); !v.Allowed {
			t.Fatalf("before the advisory %s is denied: %+v", d, v)
		}
	}
	reads := e.q.BlobReads()

	e.importRecords(record("CVE-2099-0002", "glibc", "2.36-9", critical))
	if changed, err := e.db.Reload(); err != nil || !changed {
		t.Fatalf("reload = %v, %v", changed, err)
	}
	st, err := e.q.Rematch(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.Rematched != 10 || st.Changed != 5 || st.Queued != 0 {
		t.Fatalf("rematch stats = %+v", st)
	}
	if got := e.q.BlobReads(); got != reads {
		t.Fatalf("the rematch read %d blobs", got-reads)
	}
	for i, d := range ds {
		_, v, _ := e.result("team/app", d)
		if v.Allowed != (i%2 == 1) {
			t.Errorf("image %d: allowed = %v after the advisory", i, v.Allowed)
		}
	}
	changes := e.eventsOf(events.KindVerdictChange)
	if len(changes) != 5 || changes[0].Detail["from"] != "allowed" || changes[0].Detail["to"] != "denied" || changes[0].Detail["reason"] != "rescan" {
		t.Fatalf("verdict-change events = %+v", changes)
	}
	// Nothing stale is left for a start-up catch-up.
	if st, err := e.q.RematchStale(ctx); err != nil || st.Rematched != 0 {
		t.Fatalf("stale rematch = %+v, %v", st, err)
	}
}

// TestPushesOutrankBulk queues a bulk rescan of many images, then a
// push: the push is scanned next, not after the bulk.
func TestPushesOutrankBulk(t *testing.T) {
	e := newEnv(t, record("CVE-2099-0001", "zlib", "1:1.2.13.dfsg-2", high))
	ctx := context.Background()
	var bulk []string
	for i := range 6 {
		bulk = append(bulk, e.push("team/bulk", fmt.Sprintf("v%d", i), debianImage([3]string{"zlib1g", "zlib", fmt.Sprintf("1:1.2.13.dfsg-%d", i)})))
	}
	for _, d := range bulk {
		if _, err := e.q.Enqueue(ctx, "team/bulk", d, store.ScanPriorityBulk, "rescan"); err != nil {
			t.Fatal(err)
		}
	}
	pushed := e.push("team/app", "v1", debianImage([3]string{"zlib1g", "zlib", "1:1.2.13.dfsg-1"}))
	if _, err := e.q.Enqueue(ctx, "team/app", pushed, store.ScanPriorityPush, "push"); err != nil {
		t.Fatal(err)
	}
	e.run()
	res, _, _ := e.result("team/app", pushed)
	for _, d := range bulk {
		e.result("team/bulk", d)
	}
	n := 0
	err := e.st.ScanResults(ctx, "", false, func(r *store.ScanResult) error {
		if r.JobID < res.JobID && r.Repository == "team/bulk" && r.ScannedAt.Before(res.ScannedAt) {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d bulk scans ran before the push", n)
	}
}

func TestNotAnImage(t *testing.T) {
	e := newEnv(t, record("CVE-2099-0001", "zlib", "1:1.2.13.dfsg-2", high))
	ctx := context.Background()
	e.push("team/app", "v1", debianImage([3]string{"zlib1g", "zlib", "1:1.2.13.dfsg-1"}))
	r, _ := e.st.RepositoryByName(ctx, "team/app")
	content := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.dev.cosign.artifact.sig.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	m := &store.Manifest{RepositoryID: r.ID, Digest: imagetest.Digest(content), MediaType: "application/vnd.oci.image.manifest.v1+json", Size: int64(len(content)), Content: content}
	if err := e.st.PutManifest(ctx, m, nil, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := e.q.EnqueueArtifact(ctx, "team/app", m.Digest, store.ScanPriorityPush, "push"); err != nil || n != 0 {
		t.Fatalf("EnqueueArtifact of a signature = %d, %v", n, err)
	}
	// Queued anyway (by hand), it fails for good at once, with a reason.
	if _, err := e.q.Enqueue(ctx, "team/app", m.Digest, store.ScanPriorityPush, "push"); err != nil {
		t.Fatal(err)
	}
	e.run()
	res, _, _ := e.result("team/app", m.Digest)
	if res.Error == "" || !bytes.Contains([]byte(res.Error), []byte("not an image")) {
		t.Fatalf("error = %q", res.Error)
	}
}

// BenchmarkRematch200 is the rescan criterion: 200 images are
// scanned, then one new advisory that affects half of them is imported,
// and the full rematch is timed. It reads no layer (checked).
//
//	go test ./internal/scanq -run '^$' -bench Rematch200 -benchtime 5x
func BenchmarkRematch200(b *testing.B) {
	status, err := os.ReadFile("testdata/minbase-status")
	if err != nil {
		b.Fatal(err)
	}
	adv, err := os.ReadFile("testdata/advisories.json")
	if err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, string(adv))
	e.push("bench/base", "v0", debianImage([3]string{"busybox", "busybox", "1:1.35.0-4"}))
	e.setPolicy("bench", verdict.Policy{PreventSeverity: "CRITICAL"})
	ctx := context.Background()
	const n = 200
	downgraded := bytes.ReplaceAll(status, []byte("Version: 2.36-9+deb12u14"), []byte("Version: 2.36-9+deb12u7"))
	if bytes.Equal(downgraded, status) {
		b.Fatal("the minbase status has no glibc 2.36-9+deb12u14 to downgrade")
	}
	for i := range n {
		st := status
		if i%2 == 0 {
			st = downgraded
		}
		layers := []imagetest.Layer{imagetest.NewLayer(true,
			imagetest.File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"),
			imagetest.File("var/lib/dpkg/status", string(st)),
			imagetest.File("etc/seed", fmt.Sprint(i)),
		)}
		d := e.push("bench/app", fmt.Sprintf("v%d", i), layers)
		if _, err := e.q.Enqueue(ctx, "bench/app", d, store.ScanPriorityPush, "push"); err != nil {
			b.Fatal(err)
		}
	}
	e.run()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		st, err := e.st.ScanQueue(ctx, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if len(st.Waiting) == 0 && st.Running == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("200 scans did not finish in 10 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	reads := e.q.BlobReads()
	b.StopTimer()
	b.ResetTimer()
	var took time.Duration
	for i := range b.N {
		// Each round adds one more advisory for the same half: the first
		// round changes 100 verdicts, later ones rematch as much.
		rec := record(fmt.Sprintf("CVE-2099-%04d", i), "glibc", "2.36-9+deb12u8", critical)
		e.importRecords(rec)
		if _, err := e.db.Reload(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		st, err := e.q.Rematch(ctx, "")
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if st.Rematched != n {
			b.Fatalf("rematched %d, want %d", st.Rematched, n)
		}
		if i == 0 && st.Changed != n/2 {
			b.Fatalf("%d verdicts changed, want %d", st.Changed, n/2)
		}
		took += st.Took
	}
	b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "ms/rematch")
	if got := e.q.BlobReads(); got != reads {
		b.Fatalf("the rematches read %d blobs", got-reads)
	}
}
