package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/store"
)

// pushed stores n image manifests in repository name and returns their digests.
func pushed(t *testing.T, s store.Store, name string, n int) []string {
	t.Helper()
	r := repo(t, s, name)
	var ds []string
	for i := range n {
		m := manifest(r, fmt.Sprintf("%s-%d", name, i))
		must(t, "put manifest", s.PutManifest(context.Background(), m, nil, ""))
		ds = append(ds, m.Digest)
	}
	return ds
}

func enqueue(t *testing.T, s store.Store, repo, digest string, prio int, at time.Time) *store.ScanJob {
	t.Helper()
	j := &store.ScanJob{Repository: repo, Digest: digest, Priority: prio, Reason: "push", EnqueuedAt: at}
	must(t, "enqueue "+digest, s.EnqueueScan(context.Background(), j))
	return j
}

func testScanQueuePriority(t *testing.T, s store.Store) {
	ctx := context.Background()
	ds := pushed(t, s, "team/app", 4)
	now := ts(10)
	bulk1 := enqueue(t, s, "team/app", ds[0], store.ScanPriorityBulk, ts(1))
	bulk2 := enqueue(t, s, "team/app", ds[1], store.ScanPriorityBulk, ts(2))
	push := enqueue(t, s, "team/app", ds[2], store.ScanPriorityPush, ts(3))
	manual := enqueue(t, s, "team/app", ds[3], store.ScanPriorityManual, ts(4))

	// A second request for a queued artifact keeps one job, at the higher
	// priority.
	again := enqueue(t, s, "team/app", ds[1], store.ScanPriorityPush, ts(5))
	if again.ID != bulk2.ID || again.Priority != store.ScanPriorityPush {
		t.Fatalf("re-enqueue = id %d prio %d, want id %d prio %d", again.ID, again.Priority, bulk2.ID, store.ScanPriorityPush)
	}
	lower := enqueue(t, s, "team/app", ds[2], store.ScanPriorityBulk, ts(6))
	if lower.ID != push.ID || lower.Priority != store.ScanPriorityPush {
		t.Fatalf("a lower priority changed the job: %+v", lower)
	}

	st, err := s.ScanQueue(ctx, now)
	must(t, "queue", err)
	if st.Running != 0 || st.Waiting[store.ScanPriorityPush] != 2 || st.Waiting[store.ScanPriorityManual] != 1 || st.Waiting[store.ScanPriorityBulk] != 1 {
		t.Fatalf("queue stats = %+v", st)
	}

	// Pushes first (oldest first), then the manual scan, then bulk.
	var order []int64
	for range 4 {
		j, err := s.ClaimScan(ctx, "w1", now, time.Minute)
		must(t, "claim", err)
		if j.Owner != "w1" || j.Attempts != 1 || !j.LeaseUntil.Equal(kept(now.Add(time.Minute))) {
			t.Fatalf("claimed job = %+v", j)
		}
		order = append(order, j.ID)
	}
	want := []int64{bulk2.ID, push.ID, manual.ID, bulk1.ID}
	if d := diff(want, order); d != "" {
		t.Fatalf("claim order (-want +got):\n%s", d)
	}
	_, err = s.ClaimScan(ctx, "w1", now, time.Minute)
	wantErr(t, "claim from an empty queue", err, store.ErrNotFound)
	st, err = s.ScanQueue(ctx, now)
	must(t, "queue", err)
	if st.Running != 4 || len(st.Waiting) != 0 {
		t.Fatalf("queue stats with all running = %+v", st)
	}
	_, err = s.ClaimScan(ctx, "", now, time.Minute)
	wantErr(t, "claim without an owner", err, store.ErrInvalid)

	wantErr(t, "enqueue a missing manifest", s.EnqueueScan(ctx, &store.ScanJob{Repository: "team/app", Digest: digestOf([]byte("nope")), Priority: 1}), store.ErrNotFound)
}

func testScanLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	ds := pushed(t, s, "team/app", 2)
	enqueue(t, s, "team/app", ds[0], store.ScanPriorityPush, ts(1))
	now := ts(10)
	j, err := s.ClaimScan(ctx, "dead", now, time.Minute)
	must(t, "claim", err)

	// While the lease runs, nobody else gets the job.
	_, err = s.ClaimScan(ctx, "w2", now.Add(30*time.Second), time.Minute)
	wantErr(t, "claim a leased job", err, store.ErrNotFound)
	// A renewal keeps it.
	must(t, "renew", s.RenewScan(ctx, j.ID, "dead", now.Add(2*time.Minute)))
	_, err = s.ClaimScan(ctx, "w2", now.Add(90*time.Second), time.Minute)
	wantErr(t, "claim a renewed job", err, store.ErrNotFound)

	// The worker dies: after the lease, another takes the job over.
	later := now.Add(3 * time.Minute)
	j2, err := s.ClaimScan(ctx, "w2", later, time.Minute)
	must(t, "claim an expired lease", err)
	if j2.ID != j.ID || j2.Owner != "w2" || j2.Attempts != 2 {
		t.Fatalf("taken over job = %+v", j2)
	}
	// The dead worker comes back too late: it can neither renew nor
	// finish nor retry.
	wantErr(t, "renew a lost lease", s.RenewScan(ctx, j.ID, "dead", later.Add(time.Hour)), store.ErrConflict)
	wantErr(t, "finish a lost lease", s.FinishScan(ctx, j.ID, "dead", &store.ScanResult{ScannedAt: later}), store.ErrConflict)
	wantErr(t, "retry a lost lease", s.RetryScan(ctx, j.ID, "dead", "x", later), store.ErrConflict)
	_, err = s.ScanResult(ctx, "team/app", ds[0])
	wantErr(t, "result after a refused finish", err, store.ErrNotFound)

	// A retry puts the job back, not before its time.
	must(t, "retry", s.RetryScan(ctx, j.ID, "w2", "blob storage unavailable", later.Add(10*time.Minute)))
	_, err = s.ClaimScan(ctx, "w3", later.Add(5*time.Minute), time.Minute)
	wantErr(t, "claim before not-before", err, store.ErrNotFound)
	jobs, err := s.ScanJobs(ctx, "team/app", ds[0])
	must(t, "jobs", err)
	if len(jobs) != 1 || jobs[0].LastError != "blob storage unavailable" || jobs[0].Owner != "" || !jobs[0].NotBefore.Equal(kept(later.Add(10*time.Minute))) {
		t.Fatalf("jobs after retry = %+v", jobs)
	}
	j3, err := s.ClaimScan(ctx, "w3", later.Add(11*time.Minute), time.Minute)
	must(t, "claim after not-before", err)
	if j3.ID != j.ID || j3.Attempts != 3 {
		t.Fatalf("retried job = %+v", j3)
	}
}

func testScanResults(t *testing.T, s store.Store) {
	ctx := context.Background()
	ds := pushed(t, s, "team/app", 2)
	other := pushed(t, s, "other/svc", 1)
	for i, d := range append(ds, other...) {
		r := "team/app"
		if i == 2 {
			r = "other/svc"
		}
		enqueue(t, s, r, d, store.ScanPriorityPush, ts(i))
	}
	now := ts(20)
	for i := range 3 {
		j, err := s.ClaimScan(ctx, "w", now, time.Minute)
		must(t, "claim", err)
		res := &store.ScanResult{
			ScannedAt: ts(21 + i), MatchedAt: ts(21 + i), DBBuiltAt: ts(1),
			SBOM: []byte(`{"packages":[]}`), Findings: []byte(fmt.Sprintf(`[{"id":"CVE-%d"}]`, i)), Verdict: []byte(`{"allowed":true}`),
		}
		must(t, "finish", s.FinishScan(ctx, j.ID, "w", res))
		if res.JobID != j.ID {
			t.Errorf("JobID = %d, want %d", res.JobID, j.ID)
		}
		jobs, err := s.ScanJobs(ctx, j.Repository, j.Digest)
		must(t, "jobs", err)
		if len(jobs) != 0 {
			t.Errorf("the finished job is still queued: %+v", jobs)
		}
	}
	got, err := s.ScanResult(ctx, "team/app", ds[0])
	must(t, "result", err)
	if got.Repository != "team/app" || got.Digest != ds[0] || string(got.SBOM) != `{"packages":[]}` || !got.DBBuiltAt.Equal(kept(ts(1))) || got.JobID == 0 {
		t.Fatalf("result = %+v", got)
	}

	var seen []string
	must(t, "results", s.ScanResults(ctx, "team", false, func(r *store.ScanResult) error {
		if r.SBOM != nil {
			t.Errorf("SBOM read without withSBOM")
		}
		seen = append(seen, r.Digest)
		return nil
	}))
	if len(seen) != 2 {
		t.Fatalf("team results = %v", seen)
	}
	n := 0
	must(t, "all results", s.ScanResults(ctx, "", true, func(r *store.ScanResult) error {
		if r.SBOM == nil {
			t.Errorf("no SBOM with withSBOM")
		}
		n++
		return nil
	}))
	if n != 3 {
		t.Fatalf("all results = %d, want 3", n)
	}
	stop := errors.New("stop")
	if err := s.ScanResults(ctx, "", false, func(*store.ScanResult) error { return stop }); err != stop {
		t.Fatalf("fn's error came back as %v", err)
	}

	// Large documents come back byte for byte.
	big := []byte(`{"packages":[` + strings.Repeat(`{"name":"libc6","version":"2.36-9+deb12u7"},`, 2000) + `{}]}`)
	enqueue(t, s, "team/app", ds[0], store.ScanPriorityManual, ts(30))
	j, err := s.ClaimScan(ctx, "w", ts(31), time.Minute)
	must(t, "claim", err)
	must(t, "finish big", s.FinishScan(ctx, j.ID, "w", &store.ScanResult{ScannedAt: ts(21), MatchedAt: ts(21), SBOM: big, Findings: big, Verdict: []byte(`{}`)}))
	got, err = s.ScanResult(ctx, "team/app", ds[0])
	must(t, "result", err)
	if !bytes.Equal(got.SBOM, big) || !bytes.Equal(got.Findings, big) {
		t.Fatalf("a %d-byte SBOM came back as %d bytes", len(big), len(got.SBOM))
	}
	must(t, "results", s.ScanResults(ctx, "team", true, func(r *store.ScanResult) error {
		if r.Digest == ds[0] && !bytes.Equal(r.SBOM, big) {
			t.Errorf("ScanResults: a %d-byte SBOM came back as %d bytes", len(big), len(r.SBOM))
		}
		return nil
	}))

	// A rematch replaces findings and verdicts; a deleted artifact is skipped.
	must(t, "delete", s.DeleteManifest(ctx, "other/svc", other[0]))
	upd := []store.ScanResult{
		{Repository: "team/app", Digest: ds[0], Findings: []byte(`[]`), Verdict: []byte(`{"allowed":false}`), MatchedAt: ts(40), DBBuiltAt: ts(39)},
		{Repository: "other/svc", Digest: other[0], Findings: []byte(`[]`), MatchedAt: ts(40), DBBuiltAt: ts(39)},
	}
	must(t, "update findings", s.UpdateScanFindings(ctx, upd))
	got, err = s.ScanResult(ctx, "team/app", ds[0])
	must(t, "result", err)
	if string(got.Findings) != `[]` || string(got.Verdict) != `{"allowed":false}` || !got.MatchedAt.Equal(kept(ts(40))) ||
		!got.DBBuiltAt.Equal(kept(ts(39))) || !got.ScannedAt.Equal(kept(ts(21))) || !bytes.Equal(got.SBOM, big) {
		t.Fatalf("updated result: findings %s, verdict %s, matched %v, built %v, scanned %v, SBOM %d bytes",
			got.Findings, got.Verdict, got.MatchedAt, got.DBBuiltAt, got.ScannedAt, len(got.SBOM))
	}
	_, err = s.ScanResult(ctx, "other/svc", other[0])
	wantErr(t, "result of a deleted manifest", err, store.ErrNotFound)

	// A queued job goes with its manifest.
	enqueue(t, s, "team/app", ds[1], store.ScanPriorityBulk, ts(50))
	must(t, "delete", s.DeleteManifest(ctx, "team/app", ds[1]))
	st, err := s.ScanQueue(ctx, ts(51))
	must(t, "queue", err)
	if len(st.Waiting) != 0 || st.Running != 0 {
		t.Fatalf("queue after deleting the manifest = %+v", st)
	}
}

// testScanClaimRace has workers claim and finish concurrently: every job
// is finished exactly once.
func testScanClaimRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 40
	ds := pushed(t, s, "team/app", n)
	for i, d := range ds {
		enqueue(t, s, "team/app", d, store.ScanPriorityPush, ts(i%60))
	}
	var (
		mu   sync.Mutex
		done = map[int64]string{}
	)
	errs := parallel(4, func(w int) error {
		owner := fmt.Sprintf("w%d", w)
		for {
			j, err := s.ClaimScan(ctx, owner, ts(59), time.Hour)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := s.FinishScan(ctx, j.ID, owner, &store.ScanResult{ScannedAt: ts(59)}); err != nil {
				return err
			}
			mu.Lock()
			if prev, ok := done[j.ID]; ok {
				mu.Unlock()
				return fmt.Errorf("job %d finished by %s and %s", j.ID, prev, owner)
			}
			done[j.ID] = owner
			mu.Unlock()
		}
	})
	for _, err := range errs {
		must(t, "worker", err)
	}
	if len(done) != n {
		t.Fatalf("%d jobs finished, want %d", len(done), n)
	}
}
