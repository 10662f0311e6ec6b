// Package scanq is the registry's scanner: a persistent priority queue of
// scans kept in the metadata store, workers that read an image's layers
// straight from blob storage, catalog them and match the inventory
// against the server's vulnerability database, and rematches of every
// stored SBOM after a database update, which read no layer at all.
package scanq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seawall-dev/seawall/internal/blob"
	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/catalog/list"
	"github.com/seawall-dev/seawall/internal/events"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/match"
	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/verdict"
	"github.com/seawall-dev/seawall/internal/vulndb"
)

// Store is what the scanner needs of the metadata store.
type Store interface {
	store.ScanStore
	Manifest(ctx context.Context, repo, digest string) (*store.Manifest, error)
	ProjectByName(ctx context.Context, name string) (*store.Project, error)
	ListRepositories(ctx context.Context, project, last string, n int) ([]string, error)
	ListTags(ctx context.Context, repo, last string, n int) ([]string, error)
	ResolveTag(ctx context.Context, repo, tag string) (string, error)
}

// Defaults for Config.
const (
	DefaultLease        = 30 * time.Second
	DefaultMaxAttempts  = 5
	DefaultScanTimeout  = 30 * time.Minute
	DefaultPoll         = 2 * time.Second
	DefaultReloadPeriod = 10 * time.Second
)

// Config is what New needs. Store, Blobs and DB are required.
type Config struct {
	Store Store
	Blobs blob.Store
	DB    *VulnDB
	// Events receives scan-completed and verdict-change events; nil drops them.
	Events events.Sink
	// Verdict evaluates project policies; nil evaluates without a
	// signature checker (a required signature then always refuses).
	Verdict *verdict.Evaluator
	// Workers is how many scans run at once (default 1: scanning is
	// CPU-bound and the server has other work).
	Workers int
	// Lease is how long a worker holds a job between heartbeats; a worker
	// that dies gives its jobs up after it.
	Lease       time.Duration
	MaxAttempts int
	ScanTimeout time.Duration
	// Poll is how often an idle worker looks for work that another
	// replica queued (work queued here wakes it at once).
	Poll time.Duration
	// ReloadPeriod is how often Run checks whether the vulnerability
	// database file was replaced, and rematches when it was.
	ReloadPeriod time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
	// Owner prefixes the workers' lease names (default host-pid-random).
	Owner string
}

// Queue is the scanner. Create it with New and run it with Run.
type Queue struct {
	cfg     Config
	st      Store
	db      *VulnDB
	events  events.Sink
	eval    *verdict.Evaluator
	log     *slog.Logger
	now     func() time.Time
	owner   string
	wake    chan struct{}
	metrics *metrics

	rematchMu sync.Mutex
}

// New checks cfg and returns the queue.
func New(cfg Config) (*Queue, error) {
	if cfg.Store == nil || cfg.Blobs == nil || cfg.DB == nil {
		return nil, errors.New("scanq: Store, Blobs and DB are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.ScanTimeout <= 0 {
		cfg.ScanTimeout = DefaultScanTimeout
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.ReloadPeriod <= 0 {
		cfg.ReloadPeriod = DefaultReloadPeriod
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Events == nil {
		cfg.Events = events.Discard
	}
	if cfg.Verdict == nil {
		cfg.Verdict = &verdict.Evaluator{Now: cfg.Now}
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		rand.Read(b)
		cfg.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	q := &Queue{
		cfg:    cfg,
		st:     cfg.Store,
		db:     cfg.DB,
		events: cfg.Events,
		eval:   cfg.Verdict,
		log:    cfg.Logger.With("component", "scanq"),
		now:    cfg.Now,
		owner:  cfg.Owner,
		wake:   make(chan struct{}, 1),
	}
	q.metrics = newMetrics(q)
	return q, nil
}

// Enqueue queues a scan of repo@digest and wakes an idle worker.
func (q *Queue) Enqueue(ctx context.Context, repo, digest string, priority int, reason string) (*store.ScanJob, error) {
	j := &store.ScanJob{Repository: repo, Digest: digest, Priority: priority, Reason: reason, EnqueuedAt: q.now()}
	if err := q.st.EnqueueScan(ctx, j); err != nil {
		return nil, err
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return j, nil
}

// Run runs the workers, and rematches whenever the vulnerability database
// is replaced, until ctx ends. Jobs in hand when it ends go back to the
// queue.
func (q *Queue) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := range q.cfg.Workers {
		wg.Go(func() { q.worker(ctx, q.owner+"-"+strconv.Itoa(i)) })
	}
	wg.Go(func() { q.watchDB(ctx) })
	wg.Wait()
	return nil
}

// watchDB rematches stale results once at start (a rematch that a crash
// cut short), then each time the database file is replaced.
func (q *Queue) watchDB(ctx context.Context) {
	if _, err := q.RematchStale(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, vulndb.ErrNoDB) {
		q.log.ErrorContext(ctx, "rematch after start", "err", err)
	}
	t := time.NewTicker(q.cfg.ReloadPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := q.db.Reload()
		if err != nil {
			if !errors.Is(err, vulndb.ErrNoDB) {
				q.log.ErrorContext(ctx, "reload the vulnerability database", "err", err)
			}
			continue
		}
		if !changed {
			continue
		}
		info, _ := q.db.Info()
		q.log.InfoContext(ctx, "vulnerability database replaced: rematching every stored SBOM", "built", info.BuiltAt, "records", info.Records)
		if _, err := q.Rematch(ctx, ""); err != nil && ctx.Err() == nil {
			q.log.ErrorContext(ctx, "rematch", "err", err)
		}
	}
}

// worker claims and runs jobs until ctx ends.
func (q *Queue) worker(ctx context.Context, owner string) {
	backoff := q.cfg.Poll
	for ctx.Err() == nil {
		job, err := q.st.ClaimScan(ctx, owner, q.now(), q.cfg.Lease)
		switch {
		case errors.Is(err, store.ErrNotFound):
			q.idle(ctx, q.cfg.Poll)
			continue
		case err != nil:
			if ctx.Err() == nil {
				q.log.ErrorContext(ctx, "claim a scan job", "err", err)
			}
			q.idle(ctx, backoff)
			backoff = min(2*backoff, time.Minute)
			continue
		}
		backoff = q.cfg.Poll
		q.run(ctx, owner, job)
	}
}

// idle waits for d, for a wake-up, or for ctx.
func (q *Queue) idle(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-q.wake:
	case <-t.C:
	}
}

// permanent marks a scan error that another attempt cannot fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// run scans one job under a lease kept alive by heartbeats, and stores
// the result or gives the job back.
func (q *Queue) run(ctx context.Context, owner string, job *store.ScanJob) {
	log := q.log.With("job", job.ID, "repository", job.Repository, "digest", job.Digest, "attempt", job.Attempts)
	jctx, cancel := context.WithTimeout(ctx, q.cfg.ScanTimeout)
	defer cancel()
	lost := make(chan struct{})
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		t := time.NewTicker(q.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-jctx.Done():
				return
			case <-t.C:
			}
			err := q.st.RenewScan(jctx, job.ID, owner, q.now().Add(q.cfg.Lease))
			if errors.Is(err, store.ErrConflict) {
				log.WarnContext(ctx, "lost the lease of a scan job; another worker has it")
				close(lost)
				cancel()
				return
			}
			if err != nil && jctx.Err() == nil {
				log.WarnContext(ctx, "renew scan lease", "err", err)
			}
		}
	}()

	start := time.Now()
	res, verd, err := q.scan(jctx, job)
	cancel()
	<-hbDone
	select {
	case <-lost:
		q.metrics.scans.WithLabelValues("lost").Inc()
		return
	default:
	}
	bg := context.WithoutCancel(ctx)
	if ctx.Err() != nil {
		// Shutting down: give the job back for the next start or replica.
		if err := q.st.RetryScan(bg, job.ID, owner, "interrupted by a server shutdown", time.Time{}); err != nil {
			log.WarnContext(bg, "give a scan job back", "err", err)
		}
		return
	}
	if err != nil {
		var p permanent
		switch {
		case errors.Is(err, vulndb.ErrNoDB):
			// Not the image's fault: wait for a database, however long.
			log.WarnContext(ctx, "scan waits for a vulnerability database", "err", err)
			q.retry(bg, log, job, owner, err, q.now().Add(time.Minute))
			return
		case !errors.As(err, &p) && job.Attempts < q.cfg.MaxAttempts:
			wait := time.Duration(1<<min(job.Attempts, 8)) * time.Second
			log.WarnContext(ctx, "scan failed; will retry", "err", err, "in", wait)
			q.metrics.scans.WithLabelValues("retried").Inc()
			q.retry(bg, log, job, owner, err, q.now().Add(wait))
			return
		}
		log.ErrorContext(ctx, "scan failed", "err", err)
		res = &store.ScanResult{ScannedAt: q.now(), MatchedAt: q.now(), Error: err.Error()}
		v, verr := q.evaluate(bg, job.Repository, job.Digest, res)
		if verr == nil {
			res.Verdict, _ = json.Marshal(v)
			verd = &v
		}
	}
	prev, _ := q.st.ScanResult(bg, job.Repository, job.Digest)
	if err := q.st.FinishScan(bg, job.ID, owner, res); err != nil {
		if errors.Is(err, store.ErrConflict) {
			log.WarnContext(ctx, "scan job was taken over or its manifest deleted; result dropped", "err", err)
			q.metrics.scans.WithLabelValues("lost").Inc()
			return
		}
		log.ErrorContext(ctx, "store scan result", "err", err)
		q.retry(bg, log, job, owner, err, q.now().Add(10*time.Second))
		return
	}
	took := time.Since(start)
	outcome := "ok"
	if res.Error != "" {
		outcome = "failed"
	} else {
		q.metrics.duration.Observe(took.Seconds())
	}
	q.metrics.scans.WithLabelValues(outcome).Inc()
	log.InfoContext(ctx, "scan completed", "outcome", outcome, "took", took.Round(time.Millisecond), "verdict", summary(verd))
	q.emitScan(bg, job, res, verd, took)
	if prev != nil && verd != nil {
		q.emitChange(bg, job.Repository, job.Digest, prev.Verdict, verd, "scan")
	}
}

func (q *Queue) retry(ctx context.Context, log *slog.Logger, job *store.ScanJob, owner string, cause error, at time.Time) {
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	if err := q.st.RetryScan(ctx, job.ID, owner, msg, at); err != nil {
		log.WarnContext(ctx, "give a scan job back", "err", err)
	}
}

func summary(v *verdict.Verdict) string {
	if v == nil {
		return ""
	}
	return v.Summary()
}

// scan reads the image from blob storage, catalogs and matches it.
func (q *Queue) scan(ctx context.Context, job *store.ScanJob) (*store.ScanResult, *verdict.Verdict, error) {
	m, err := q.st.Manifest(ctx, job.Repository, job.Digest)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, permanent{fmt.Errorf("the manifest was deleted")}
		}
		return nil, nil, err
	}
	if kind, _ := registry.DescribeManifest(m.MediaType, m.Content); kind != registry.KindImage {
		return nil, nil, permanent{fmt.Errorf("%s is an %s, not an image: only images are scanned", job.Digest, kind)}
	}
	db, release, err := q.db.Acquire()
	if err != nil {
		return nil, nil, err
	}
	defer release()
	info := db.Info()
	name := job.Repository + "@" + job.Digest
	img, err := image.FromManifest(ctx, name, job.Digest, m.Content, q.blobSource())
	if err != nil {
		return nil, nil, blobErr(err)
	}
	defer img.Close()
	img.RepoDigests = []string{name}
	scanned, err := catalog.Scan(ctx, img, catalog.Options{Catalogers: catalogers(), Logger: q.log.With("component", "catalog")})
	if err != nil {
		return nil, nil, blobErr(fmt.Errorf("read the image's layers: %w", err))
	}
	scannedAt := q.now()
	findings, _, err := match.Match(ctx, scanned.Inventory, db, match.Options{Logger: q.log.With("component", "match")})
	if err != nil {
		return nil, nil, fmt.Errorf("match: %w", err)
	}
	res := &store.ScanResult{ScannedAt: scannedAt, MatchedAt: q.now(), DBBuiltAt: info.BuiltAt}
	if res.SBOM, err = json.Marshal(scanned.Inventory); err != nil {
		return nil, nil, err
	}
	if res.Findings, err = json.Marshal(nonNil(findings)); err != nil {
		return nil, nil, err
	}
	v, err := q.evaluateFindings(ctx, job.Repository, job.Digest, res, findings)
	if err != nil {
		return nil, nil, err
	}
	if res.Verdict, err = json.Marshal(v); err != nil {
		return nil, nil, err
	}
	return res, &v, nil
}

// blobErr makes a missing blob permanent: the image cannot be read until
// it is pushed again.
func blobErr(err error) error {
	if errors.Is(err, blob.ErrNotFound) {
		return permanent{err}
	}
	return err
}

func nonNil(fs []inventory.Finding) []inventory.Finding {
	if fs == nil {
		return []inventory.Finding{}
	}
	return fs
}

// catalogers are those of an image scan: what is installed, not what
// lockfiles declare.
func catalogers() []catalog.Cataloger {
	var out []catalog.Cataloger
	for _, c := range list.All() {
		if !catalog.IsDeclared(c) {
			out = append(out, c)
		}
	}
	return out
}

// evaluate makes the verdict of a stored result under its project's
// policy.
func (q *Queue) evaluate(ctx context.Context, repo, digest string, res *store.ScanResult) (verdict.Verdict, error) {
	var fs []inventory.Finding
	if res.Error == "" && len(res.Findings) > 0 {
		if err := json.Unmarshal(res.Findings, &fs); err != nil {
			return verdict.Verdict{}, fmt.Errorf("stored findings of %s@%s: %w", repo, digest, err)
		}
	}
	return q.evaluateFindings(ctx, repo, digest, res, fs)
}

func (q *Queue) evaluateFindings(ctx context.Context, repo, digest string, res *store.ScanResult, fs []inventory.Finding) (verdict.Verdict, error) {
	p, err := q.policy(ctx, projectOf(repo))
	if err != nil {
		return verdict.Verdict{}, err
	}
	return q.eval.Evaluate(ctx, repo, digest, p, ScanOf(res, fs))
}

// ScanOf is a stored result as the evaluator takes it.
func ScanOf(res *store.ScanResult, fs []inventory.Finding) *verdict.Scan {
	if res == nil {
		return nil
	}
	return &verdict.Scan{ScannedAt: res.ScannedAt, DBBuiltAt: res.DBBuiltAt, Findings: fs, Error: res.Error}
}

func (q *Queue) policy(ctx context.Context, project string) (verdict.Policy, error) {
	proj, err := q.st.ProjectByName(ctx, project)
	if err != nil {
		return verdict.Policy{}, fmt.Errorf("project %s: %w", project, err)
	}
	return verdict.PolicyOf(proj.Settings)
}

func projectOf(repo string) string {
	p, _, _ := strings.Cut(repo, "/")
	return p
}

// emitScan reports a finished scan.
func (q *Queue) emitScan(ctx context.Context, job *store.ScanJob, res *store.ScanResult, v *verdict.Verdict, took time.Duration) {
	d := map[string]string{"duration_ms": strconv.FormatInt(took.Milliseconds(), 10), "reason": job.Reason}
	if res.Error != "" {
		d["error"] = res.Error
	}
	if v != nil {
		d["verdict"] = decision(v)
		d["worst_severity"] = v.WorstSeverity
		n := 0
		for _, c := range v.Counts {
			n += c
		}
		d["findings"] = strconv.Itoa(n)
		if !v.Allowed {
			d["reason_denied"] = v.Summary()
		}
	}
	q.events.Emit(ctx, events.Event{Kind: events.KindScanCompleted, Project: projectOf(job.Repository), Repo: job.Repository, Digest: job.Digest, Detail: d})
}

// emitChange reports a verdict that changed from the stored one.
func (q *Queue) emitChange(ctx context.Context, repo, digest string, prevJSON []byte, next *verdict.Verdict, reason string) bool {
	var prev verdict.Verdict
	if len(prevJSON) == 0 || json.Unmarshal(prevJSON, &prev) != nil {
		return false
	}
	if verdict.Same(&prev, next) {
		return false
	}
	d := map[string]string{
		"from":           decision(&prev),
		"to":             decision(next),
		"reason":         reason,
		"worst_severity": next.WorstSeverity,
		"summary":        next.Summary(),
	}
	if f := next.Failed(); len(f) > 0 {
		d["policy"] = f[0].Rule
	}
	q.events.Emit(ctx, events.Event{Kind: events.KindVerdictChange, Project: projectOf(repo), Repo: repo, Digest: digest, Detail: d})
	return true
}

func decision(v *verdict.Verdict) string {
	if v.Allowed {
		return "allowed"
	}
	return "denied"
}

// blobSource reads blobs from storage and counts what it reads.
func (q *Queue) blobSource() image.BlobSource { return countingBlobs{q} }

type countingBlobs struct{ q *Queue }

func (c countingBlobs) OpenBlob(ctx context.Context, digest string) (io.ReadCloser, error) {
	d, err := blob.ParseDigest(digest)
	if err != nil {
		return nil, permanent{fmt.Errorf("blob %q: %w", digest, err)}
	}
	rc, err := c.q.cfg.Blobs.Open(ctx, d)
	if err != nil {
		return nil, err
	}
	c.q.metrics.blobReads.Inc()
	c.q.metrics.blobReadsN.Add(1)
	return &countingReader{rc: rc, n: c.q.metrics.blobBytes}, nil
}
