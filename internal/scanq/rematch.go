package scanq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/match"
	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/verdict"
)

// RematchStats say what a rematch did.
type RematchStats struct {
	Results   int           `json:"results"`   // stored results looked at
	Rematched int           `json:"rematched"` // SBOMs matched again
	Changed   int           `json:"changed"`   // verdicts that changed
	Queued    int           `json:"queued"`    // artifacts with no usable SBOM, queued for a full scan
	DBBuiltAt time.Time     `json:"dbBuiltAt"`
	Took      time.Duration `json:"took"`
}

// rematchBatch is how many results one store transaction updates.
const rematchBatch = 128

// Rematch matches every stored SBOM of project ("" for all) against the
// current vulnerability database again, updates findings and verdicts,
// and reports verdicts that changed. It reads no layer. Results with no
// SBOM (failed scans) are queued for a full scan at bulk priority.
func (q *Queue) Rematch(ctx context.Context, project string) (RematchStats, error) {
	return q.rematch(ctx, project, false)
}

// RematchStale rematches only results made with another database than
// the current one: what a rematch cut short by a crash left behind.
func (q *Queue) RematchStale(ctx context.Context) (RematchStats, error) {
	return q.rematch(ctx, "", true)
}

func (q *Queue) rematch(ctx context.Context, project string, staleOnly bool) (RematchStats, error) {
	q.rematchMu.Lock()
	defer q.rematchMu.Unlock()
	start := time.Now()
	var st RematchStats
	db, release, err := q.db.Acquire()
	if err != nil {
		return st, err
	}
	defer release()
	info := db.Info()
	st.DBBuiltAt = info.BuiltAt
	memo := newMemo(db)
	policies := map[string]*verdict.Policy{}

	var batch []store.ScanResult
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, changed, err := q.rematchBatch(ctx, batch, memo, info, policies)
		if err != nil {
			return err
		}
		st.Rematched += n
		st.Changed += changed
		batch = batch[:0]
		return nil
	}
	err = q.st.ScanResults(ctx, project, true, func(r *store.ScanResult) error {
		st.Results++
		if r.Error != "" || len(r.SBOM) == 0 {
			if staleOnly {
				return nil
			}
			if _, err := q.Enqueue(ctx, r.Repository, r.Digest, store.ScanPriorityBulk, "rescan"); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			st.Queued++
			return nil
		}
		if staleOnly && r.DBBuiltAt.Equal(info.BuiltAt.UTC().Truncate(time.Microsecond)) {
			return nil
		}
		batch = append(batch, *r)
		if len(batch) == rematchBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	st.Took = time.Since(start)
	if err != nil {
		return st, fmt.Errorf("rematch: %w", err)
	}
	if st.Rematched > 0 || !staleOnly {
		q.metrics.rematch.Observe(st.Took.Seconds())
		q.log.InfoContext(ctx, "rematch done", "project", project, "results", st.Results, "rematched", st.Rematched,
			"changed", st.Changed, "queued", st.Queued, "db_built", info.BuiltAt, "took", st.Took.Round(time.Millisecond))
	}
	return st, nil
}

// rematchBatch matches a batch in parallel and stores it in one
// transaction; then it reports the verdicts that changed.
func (q *Queue) rematchBatch(ctx context.Context, batch []store.ScanResult, db match.Advisories, info inventory.DBInfo, policies map[string]*verdict.Policy) (int, int, error) {
	now := q.now()
	// Policies first, one read per project, so the workers only read the map.
	for i := range batch {
		p := projectOf(batch[i].Repository)
		if _, ok := policies[p]; ok {
			continue
		}
		pol, err := q.policy(ctx, p)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				pol = verdict.Policy{}
			} else {
				return 0, 0, err
			}
		}
		policies[p] = &pol
	}
	updates := make([]store.ScanResult, len(batch))
	verdicts := make([]*verdict.Verdict, len(batch))
	errs := make([]error, len(batch))
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range work {
				updates[i], verdicts[i], errs[i] = q.rematchOne(ctx, &batch[i], db, info, *policies[projectOf(batch[i].Repository)], now)
			}
		})
	}
	for i := range batch {
		work <- i
	}
	close(work)
	wg.Wait()
	var ok []store.ScanResult
	var okIdx []int
	for i, err := range errs {
		if err != nil {
			if ctx.Err() != nil {
				return 0, 0, ctx.Err()
			}
			q.log.ErrorContext(ctx, "rematch one result", "repository", batch[i].Repository, "digest", batch[i].Digest, "err", err)
			continue
		}
		ok = append(ok, updates[i])
		okIdx = append(okIdx, i)
	}
	if err := q.st.UpdateScanFindings(ctx, ok); err != nil {
		return 0, 0, err
	}
	q.metrics.rematched.Add(float64(len(ok)))
	changed := 0
	for _, i := range okIdx {
		if q.emitChange(ctx, batch[i].Repository, batch[i].Digest, batch[i].Verdict, verdicts[i], "rescan") {
			changed++
		}
	}
	return len(ok), changed, nil
}

func (q *Queue) rematchOne(ctx context.Context, r *store.ScanResult, db match.Advisories, info inventory.DBInfo, p verdict.Policy, now time.Time) (store.ScanResult, *verdict.Verdict, error) {
	var inv inventory.Inventory
	if err := json.Unmarshal(r.SBOM, &inv); err != nil {
		return store.ScanResult{}, nil, fmt.Errorf("stored SBOM: %w", err)
	}
	findings, _, err := match.Match(ctx, &inv, db, match.Options{})
	if err != nil {
		return store.ScanResult{}, nil, err
	}
	out := store.ScanResult{Repository: r.Repository, Digest: r.Digest, MatchedAt: now, DBBuiltAt: info.BuiltAt}
	if out.Findings, err = json.Marshal(nonNil(findings)); err != nil {
		return out, nil, err
	}
	scan := &verdict.Scan{ScannedAt: r.ScannedAt, DBBuiltAt: info.BuiltAt, Findings: findings}
	v, err := q.eval.Evaluate(ctx, r.Repository, r.Digest, p, scan)
	if err != nil {
		return out, nil, err
	}
	if out.Verdict, err = json.Marshal(v); err != nil {
		return out, nil, err
	}
	return out, &v, nil
}

// QueueUnscanned queues a scan, at bulk priority, of every tagged image of
// project ("" for all) that has no result yet, or of every one when full
// is set (to read the layers again, after an upgrade of the catalogers).
// It returns how many it queued.
func (q *Queue) QueueUnscanned(ctx context.Context, project string, full bool) (int, error) {
	queued := 0
	last := ""
	for {
		repos, err := q.st.ListRepositories(ctx, project, last, 500)
		if err != nil {
			return queued, err
		}
		for _, repo := range repos {
			n, err := q.queueRepo(ctx, repo, full)
			queued += n
			if err != nil {
				return queued, err
			}
		}
		if len(repos) < 500 {
			return queued, nil
		}
		last = repos[len(repos)-1]
	}
}

func (q *Queue) queueRepo(ctx context.Context, repo string, full bool) (int, error) {
	tags, err := q.st.ListTags(ctx, repo, "", -1)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil
		}
		return 0, err
	}
	seen := map[string]bool{}
	queued := 0
	for _, t := range tags {
		d, err := q.st.ResolveTag(ctx, repo, t)
		if err != nil || seen[d] {
			continue
		}
		seen[d] = true
		if !full {
			if _, err := q.st.ScanResult(ctx, repo, d); err == nil {
				continue
			}
		}
		n, err := q.EnqueueArtifact(ctx, repo, d, store.ScanPriorityBulk, "rescan")
		queued += n
		if err != nil {
			return queued, err
		}
	}
	return queued, nil
}

// EnqueueArtifact queues a scan of an image, or of each image of an
// index; anything else is not scanned. It returns how many it queued.
func (q *Queue) EnqueueArtifact(ctx context.Context, repo, digest string, priority int, reason string) (int, error) {
	m, err := q.st.Manifest(ctx, repo, digest)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	kind, children := registry.DescribeManifest(m.MediaType, m.Content)
	switch kind {
	case registry.KindImage:
		if _, err := q.Enqueue(ctx, repo, digest, priority, reason); err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, err
		}
		return 1, nil
	case registry.KindIndex:
		n := 0
		for _, c := range children {
			cm, err := q.st.Manifest(ctx, repo, c)
			if err != nil {
				continue
			}
			if k, _ := registry.DescribeManifest(cm.MediaType, cm.Content); k != registry.KindImage {
				continue
			}
			if _, err := q.Enqueue(ctx, repo, c, priority, reason); err != nil && !errors.Is(err, store.ErrNotFound) {
				return n, err
			}
			n++
		}
		return n, nil
	}
	return 0, nil
}
