package store

import (
	"context"
	"time"
)

// Scan priorities: a higher priority is claimed first, and jobs of one
// priority are claimed oldest first. Pushes outrank bulk rescans, so a
// "rescan everything" never holds up the scan of an image just pushed.
const (
	ScanPriorityBulk   = 10  // `seawall rescan --full`, artifacts a rescan found unscanned
	ScanPriorityManual = 50  // one artifact a user asked for
	ScanPriorityPush   = 100 // scan-on-push
)

// ScanJob is a queued or running scan of one manifest.
type ScanJob struct {
	ID         int64
	Repository string
	Digest     string
	Priority   int
	Reason     string // "push", "rescan", "manual"
	Attempts   int    // times claimed so far
	EnqueuedAt time.Time
	NotBefore  time.Time // not claimed before this (retry backoff); zero: ready
	Owner      string    // the worker holding the lease; "" while waiting
	LeaseUntil time.Time
	LastError  string
}

// ScanResult is what the scan of one manifest found. The JSON documents
// are opaque to the store: package scanq writes them.
type ScanResult struct {
	Repository string
	Digest     string
	JobID      int64     // the job that produced it
	ScannedAt  time.Time // when the layers were read
	MatchedAt  time.Time // when Findings were computed (by the scan or a rematch)
	DBBuiltAt  time.Time // build time of the vulnerability database Findings came from
	// SBOM is the inventory (inventory.Inventory as JSON).
	SBOM []byte
	// Findings are the vulnerability findings ([]inventory.Finding as
	// JSON), nothing suppressed: allowlists apply when a verdict is made.
	Findings []byte
	// Verdict is the verdict (verdict.Verdict as JSON) as evaluated when
	// the result was stored, for lists and change events.
	Verdict []byte
	// Error says why the scan failed for good; "" on success.
	Error string
}

// ScanQueueStats count the scan queue.
type ScanQueueStats struct {
	// Waiting counts jobs that are not leased (or whose lease expired),
	// by priority.
	Waiting map[int]int
	// Running counts jobs under a live lease.
	Running int
}

// ScanStore keeps the persistent scan queue and scan results. A job or a
// result belongs to its manifest: deleting the manifest deletes both.
type ScanStore interface {
	// EnqueueScan queues a scan of j.Repository@j.Digest (ErrNotFound
	// when the manifest is not stored). An artifact has at most one job:
	// a job already there is kept, at the higher of the two priorities,
	// and j gets its ID and state.
	EnqueueScan(ctx context.Context, j *ScanJob) error
	// ClaimScan leases the ready job with the highest priority, then the
	// oldest, to owner until now+lease. Ready are waiting jobs past their
	// NotBefore, and leased jobs whose lease ran out (their worker died).
	// It returns ErrNotFound when no job is ready.
	ClaimScan(ctx context.Context, owner string, now time.Time, lease time.Duration) (*ScanJob, error)
	// RenewScan extends the lease of a job owner holds; ErrConflict when
	// owner no longer holds it.
	RenewScan(ctx context.Context, id int64, owner string, until time.Time) error
	// FinishScan stores res as the artifact's result (replacing any
	// earlier one) and deletes the job, in one transaction, but only
	// while owner holds the job: ErrConflict otherwise, and nothing is
	// stored.
	FinishScan(ctx context.Context, id int64, owner string, res *ScanResult) error
	// RetryScan gives a job owner holds back to the queue, to be claimed
	// again from notBefore, recording msg; ErrConflict when not held.
	RetryScan(ctx context.Context, id int64, owner, msg string, notBefore time.Time) error
	// ScanQueue counts the queue as of now.
	ScanQueue(ctx context.Context, now time.Time) (ScanQueueStats, error)
	// ScanJobs lists the jobs for an artifact, or with digest "" for every
	// artifact of repo, by ID.
	ScanJobs(ctx context.Context, repo, digest string) ([]ScanJob, error)
	// ScanResult returns an artifact's result; ErrNotFound when it was
	// never scanned.
	ScanResult(ctx context.Context, repo, digest string) (*ScanResult, error)
	// ScanResults calls fn for the result of every artifact in project
	// ("" for every project), in the order they were first stored. SBOM is left
	// nil unless withSBOM. fn's error stops the walk and is returned as it is.
	ScanResults(ctx context.Context, project string, withSBOM bool, fn func(*ScanResult) error) error
	// UpdateScanFindings replaces the Findings, MatchedAt, DBBuiltAt and
	// Verdict of stored results, in one transaction (a rematch after a
	// database update). Results deleted meanwhile are skipped.
	UpdateScanFindings(ctx context.Context, rs []ScanResult) error
}
